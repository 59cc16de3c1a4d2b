package mcu

import "time"

const (
	// reorderSlots is the window of packets held while one is missing: at 1.5 Mbit/s about 40 ms,
	// time for a NACKed packet to come back on a short path.
	reorderSlots = 64
	// reorderWait is the longest a missing packet is waited for; after that it counts as lost
	// (the depacketizer then asks for a keyframe).
	reorderWait = 60 * time.Millisecond
)

// reorder releases a video track's packets in sequence order: a packet that arrives late (a
// NACK retransmission, or reordering on the path) fills its gap instead of being counted as loss,
// which would throw the frame away and cost the sender a keyframe. It holds packets by their index
// in the videoIn's buffer ring; owned by the decoder goroutine.
type reorder struct {
	slot    [reorderSlots]int32 // buffer index by seq % reorderSlots; -1 empty
	seqs    [reorderSlots]uint16
	held    int
	next    uint16
	started bool
	since   time.Time // when the packet at next was first missed
}

func newReorder() *reorder {
	r := &reorder{}
	for i := range r.slot {
		r.slot[i] = -1
	}
	return r
}

// push takes packet i with sequence seq and calls deliver for each packet now in order, then
// release for packets it gives up (late duplicates, a flushed window). Both get buffer indexes.
func (r *reorder) push(i int32, seq uint16, now time.Time, deliver, release func(int32)) {
	if !r.started {
		r.started, r.next = true, seq
	}
	switch d := int16(seq - r.next); {
	case d < 0:
		release(i) // older than what was already delivered or given up
		return
	case d >= reorderSlots:
		// A jump past the window (a sender restart, a long outage): deliver what is held in
		// order and start again from here.
		r.flush(deliver)
		r.next = seq
	}
	s := seq % reorderSlots
	if r.slot[s] >= 0 {
		release(i) // a duplicate
		return
	}
	r.slot[s], r.seqs[s] = i, seq
	r.held++
	r.drain(now, deliver)
}

func (r *reorder) drain(now time.Time, deliver func(int32)) {
	for r.held > 0 {
		if r.take(deliver) {
			r.next++
			r.since = time.Time{}
			continue
		}
		// r.next is missing: wait for it while the window and the time allow.
		if r.since.IsZero() {
			r.since = now
		}
		if r.held < reorderSlots/2 && now.Sub(r.since) < reorderWait {
			return
		}
		// Given up: everything missing up to the next packet held is lost at once (the
		// depacketizer sees one gap), rather than each missing packet being waited for in turn.
		r.next = r.oldestHeld()
		r.since = time.Time{}
	}
}

// oldestHeld is the lowest sequence number held after next (held > 0).
func (r *reorder) oldestHeld() uint16 {
	for d := uint16(1); d < reorderSlots; d++ {
		s := (r.next + d) % reorderSlots
		if r.slot[s] >= 0 && r.seqs[s] == r.next+d {
			return r.next + d
		}
	}
	return r.next + 1
}

// flush delivers everything held, in order.
func (r *reorder) flush(deliver func(int32)) {
	for r.held > 0 {
		r.take(deliver)
		r.next++
	}
	r.since = time.Time{}
}

// take delivers the packet numbered r.next if it is held, and says whether it was.
func (r *reorder) take(deliver func(int32)) bool {
	s := r.next % reorderSlots
	if r.slot[s] < 0 || r.seqs[s] != r.next {
		return false
	}
	deliver(r.slot[s])
	r.slot[s] = -1
	r.held--
	return true
}
