package media

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
)

// Counters are the forwarding totals a server exports as metrics. One value is shared by all fan-outs
// of a process; its fields are updated atomically.
type Counters struct {
	Packets atomic.Uint64 // packets delivered to sinks (one per sink per packet)
	Bytes   atomic.Uint64 // payload bytes delivered to sinks
	Errors  atomic.Uint64 // sink writes that failed
}

// Fanout delivers each packet of one source to its current sinks. The sink list is copy-on-write:
// Write, the hot path, takes no lock and allocates nothing; AddSink/RemoveSink are rare and copy.
type Fanout struct {
	mu       sync.Mutex // serialises writers of sinks, never held by Write
	sinks    atomic.Pointer[[]Sink]
	counters *Counters
}

// NewFanout returns an empty fan-out; counters may be nil.
func NewFanout(counters *Counters) *Fanout {
	f := &Fanout{counters: counters}
	empty := []Sink{}
	f.sinks.Store(&empty)
	return f
}

// Add subscribes s; adding the same sink twice is a no-op.
func (f *Fanout) Add(s Sink) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := *f.sinks.Load()
	if slices.Contains(cur, s) {
		return
	}
	next := make([]Sink, len(cur), len(cur)+1)
	copy(next, cur)
	next = append(next, s)
	f.sinks.Store(&next)
}

// Remove unsubscribes s.
func (f *Fanout) Remove(s Sink) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := *f.sinks.Load()
	i := slices.Index(cur, s)
	if i < 0 {
		return
	}
	next := make([]Sink, 0, len(cur)-1)
	next = append(next, cur[:i]...)
	next = append(next, cur[i+1:]...)
	f.sinks.Store(&next)
}

// Len is the number of sinks.
func (f *Fanout) Len() int { return len(*f.sinks.Load()) }

// Write hands the packet to every sink. A failing sink is counted and skipped; it does not stop the
// others. Sinks must not retain h or payload.
func (f *Fanout) Write(h *rtp.Header, payload []byte) {
	sinks := *f.sinks.Load()
	var delivered, failed uint64
	for _, s := range sinks {
		if err := s.WriteRTP(h, payload); err != nil {
			failed++
			continue
		}
		delivered++
	}
	if c := f.counters; c != nil && len(sinks) > 0 {
		c.Packets.Add(delivered)
		c.Bytes.Add(delivered * uint64(len(payload)))
		if failed > 0 {
			c.Errors.Add(failed)
		}
	}
}
