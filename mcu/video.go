package mcu

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/frame"
	"github.com/contactcenter/vcc/media/vp8"
)

const (
	// inSlots is how many packets may wait for one decoder: about half a second of a 1.5 Mbit/s
	// camera. A decoder further behind than that drops packets, which the depacketizer sees as loss
	// and answers with a keyframe request, so the tile freezes and recovers instead of lagging.
	inSlots = 256
	maxRTP  = 1500
	// pliGap rate-limits our keyframe requests per input: a sender asked more often just sends
	// keyframe after keyframe and starves its bitrate.
	pliGap = 300 * time.Millisecond
)

type pktMeta struct {
	seq    uint16
	ts     uint32
	marker bool
	n      int
}

// videoIn decodes one party's camera or screen share on its own goroutine and keeps only the latest
// picture. The network goroutine that delivers packets only copies them into a free slot: it never
// waits for the decoder (a full queue drops the packet, seen as loss).
type videoIn struct {
	src media.Source
	log *slog.Logger

	bufs [][]byte
	meta []pktMeta
	free chan int32
	work chan int32
	stop chan struct{}
	done chan struct{}

	dep     *vp8.Depacketizer
	dec     *vp8.Decoder
	back    *frame.I420
	lastPLI time.Time

	mu    sync.Mutex // guards front while it is swapped or composed from
	front *frame.I420
	seq   atomic.Uint64 // pictures decoded; the compositor skips frames when no tile changed

	dropped, corrupt atomic.Uint64
	at               atomic.Int64 // unix nanos of the last picture, for latency figures
}

func newVideoIn(src media.Source, log *slog.Logger) (*videoIn, error) {
	dec, err := vp8.NewDecoder()
	if err != nil {
		return nil, err
	}
	dep, err := vp8.NewDepacketizer()
	if err != nil {
		_ = dec.Close()
		return nil, err
	}
	v := &videoIn{
		src: src, log: log.With("source", src.ID()),
		bufs: make([][]byte, inSlots), meta: make([]pktMeta, inSlots),
		free: make(chan int32, inSlots), work: make(chan int32, inSlots),
		stop: make(chan struct{}), done: make(chan struct{}),
		dep: dep, dec: dec, back: &frame.I420{}, front: &frame.I420{},
	}
	for i := range v.bufs {
		v.bufs[i] = make([]byte, maxRTP)
		v.free <- int32(i)
	}
	go v.run()
	if err := src.AddSink(v); err != nil {
		v.close()
		return nil, err
	}
	src.RequestKeyframe()
	return v, nil
}

// WriteRTP is the media.Sink the source delivers to.
func (v *videoIn) WriteRTP(h *rtp.Header, payload []byte) error {
	if len(payload) > maxRTP {
		v.dropped.Add(1)
		return nil
	}
	select {
	case i := <-v.free:
		v.meta[i] = pktMeta{seq: h.SequenceNumber, ts: h.Timestamp, marker: h.Marker, n: copy(v.bufs[i], payload)}
		v.work <- i // never blocks: work has a slot for every buffer
	default:
		v.dropped.Add(1)
	}
	return nil
}

func (v *videoIn) run() {
	defer close(v.done)
	var h rtp.Header
	ro := newReorder()
	deliver := func(i int32) {
		m := v.meta[i]
		h.SequenceNumber, h.Timestamp, h.Marker = m.seq, m.ts, m.marker
		v.decode(&h, v.bufs[i][:m.n])
		v.free <- i
	}
	release := func(i int32) { v.free <- i }
	for {
		select {
		case <-v.stop:
			return
		case i := <-v.work:
			ro.push(i, v.meta[i].seq, time.Now(), deliver, release)
		}
	}
}

func (v *videoIn) decode(h *rtp.Header, payload []byte) {
	res, err := v.dep.Push(h, payload)
	if err != nil {
		v.corrupt.Add(1)
	}
	if res.NeedKeyframe {
		v.askKeyframe()
	}
	if res.Frame == nil {
		return
	}
	ok, err := v.dec.Decode(res.Frame, v.back)
	if err != nil {
		// The tile keeps its last good picture until the keyframe asked for here repairs the
		// decoder (a corrupt frame, a resolution change the decoder could not follow).
		if !errors.Is(err, vp8.ErrNeedKeyframe) {
			v.corrupt.Add(1)
		}
		v.askKeyframe()
		return
	}
	if !ok {
		return
	}
	v.mu.Lock()
	v.front, v.back = v.back, v.front
	v.mu.Unlock()
	v.at.Store(time.Now().UnixNano())
	v.seq.Add(1)
}

func (v *videoIn) askKeyframe() {
	if now := time.Now(); now.Sub(v.lastPLI) >= pliGap {
		v.lastPLI = now
		v.src.RequestKeyframe()
	}
}

// picture returns the latest decoded frame, or nil before the first; the caller holds v.mu while
// it reads the frame.
func (v *videoIn) picture() *frame.I420 {
	if v.seq.Load() == 0 {
		return nil
	}
	return v.front
}

// close unsubscribes and stops the decoder; the last picture stays readable (a composite may still
// point at it until its next rebuild).
func (v *videoIn) close() {
	v.src.RemoveSink(v)
	close(v.stop)
	<-v.done
	_ = v.dec.Close()
}
