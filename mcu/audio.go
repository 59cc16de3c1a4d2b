package mcu

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/mcu/mix"
	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/audio"
)

// frameSamples is one 20 ms mono frame at 48 kHz: the mixer's tick and the Opus frame we send.
const frameSamples = 960

// audioIn is one party's voice: packets go into a jitter buffer on the network goroutine; the
// room's audio clock pops, decodes (or conceals a loss) and hands the PCM to the mixer. A source
// that has its audio as PCM already (a phone leg) is taken as PCM instead: no Opus decode.
type audioIn struct {
	src  media.Source
	jb   *audio.JitterBuffer
	dec  *audio.OpusDecoder
	pcm  []int16 // big enough for a 120 ms packet, the longest Opus allows
	ssrc atomic.Uint32

	raw *pcmQueue // set when the source gives PCM
}

// pcmQueue holds the few most recent PCM frames of a source paced by its own 20 ms clock, which
// drifts against the room's: at most pcmDepth frames wait, older ones are dropped.
type pcmQueue struct {
	mu     sync.Mutex
	frames [pcmDepth][frameSamples]int16
	head   int // oldest
	n      int
	out    [frameSamples]int16
}

const pcmDepth = 3

// WritePCM implements media.PCMSink.
func (q *pcmQueue) WritePCM(pcm []int16) {
	if len(pcm) != frameSamples {
		return
	}
	q.mu.Lock()
	if q.n == pcmDepth {
		q.head = (q.head + 1) % pcmDepth
		q.n--
	}
	copy(q.frames[(q.head+q.n)%pcmDepth][:], pcm)
	q.n++
	q.mu.Unlock()
}

// pop returns the oldest frame (valid until the next pop), or nil when none is waiting.
func (q *pcmQueue) pop() []int16 {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return nil
	}
	copy(q.out[:], q.frames[q.head][:])
	q.head = (q.head + 1) % pcmDepth
	q.n--
	return q.out[:]
}

func newAudioIn(src media.Source) (*audioIn, error) {
	if ps, ok := src.(media.PCMSource); ok {
		a := &audioIn{src: src, raw: &pcmQueue{}}
		if err := ps.AddPCMSink(a.raw); err != nil {
			return nil, err
		}
		return a, nil
	}
	jb, err := audio.NewJitterBuffer(audio.JitterConfig{Adapt: true})
	if err != nil {
		return nil, err
	}
	dec, err := audio.NewOpusDecoder()
	if err != nil {
		return nil, err
	}
	a := &audioIn{src: src, jb: jb, dec: dec, pcm: make([]int16, 5760)}
	if err := src.AddSink(a); err != nil {
		return nil, err
	}
	return a, nil
}

// WriteRTP buffers one packet; it takes the jitter buffer's lock only for a copy.
func (a *audioIn) WriteRTP(h *rtp.Header, payload []byte) error {
	if old := a.ssrc.Swap(h.SSRC); old != h.SSRC && old != 0 {
		a.jb.Reset() // a new stream (the sender restarted): its numbering has nothing to do with the old
	}
	_ = a.jb.Push(h.SequenceNumber, h.Timestamp, payload) // refusals are counted in its stats
	return nil
}

// pull produces this tick's 20 ms of the party's voice, or nil when there is nothing to play (the
// buffer is filling, or the party has been silent long enough to count as gone).
func (a *audioIn) pull() []int16 {
	if a.raw != nil {
		return a.raw.pop()
	}
	payload, lost := a.jb.Pop()
	n := 0
	var err error
	switch {
	case payload != nil:
		n, err = a.dec.Decode(payload, a.pcm)
		if err != nil {
			n, err = a.dec.DecodePLC(nil, a.pcm[:frameSamples])
		}
	case lost:
		n, err = a.dec.DecodePLC(nil, a.pcm[:frameSamples])
	default:
		return nil
	}
	if err != nil {
		return nil
	}
	// Browsers send 20 ms packets; a sender with other packet times is cut or padded to the tick,
	// which is audible but keeps the mix in step.
	if n < frameSamples {
		clear(a.pcm[n:frameSamples])
	}
	return a.pcm[:frameSamples]
}

// summary describes what the input received and played, for the log when its party leaves.
func (a *audioIn) summary() string {
	if a == nil {
		return "none"
	}
	if a.raw != nil {
		return "pcm"
	}
	s := a.jb.Stats()
	return fmt.Sprintf("pushed %d, played %d, lost %d, late %d, resets %d, idle %d", s.Pushed, s.Played, s.Lost, s.Late, s.Resets, s.Idle)
}

func (a *audioIn) close() {
	if a.raw != nil {
		a.src.(media.PCMSource).RemovePCMSink(a.raw)
		return
	}
	a.src.RemoveSink(a)
}

// voice is one member as the audio clock sees it: a snapshot rebuilt by the room on every change,
// so the clock never touches the room's maps.
type voice struct {
	id    string
	in    *audioIn // nil: the member sends no audio
	heard bool     // its audio goes into the mix (not on hold, not a silent monitor)
	*mixOut
}

// mixOut is a member's mix-minus stream, kept for as long as the member is in the room; only the
// audio clock encodes and numbers its packets.
type mixOut struct {
	input *mix.Input // its place in the mixer
	out   *output    // encoded only while someone receives it
	enc   *audio.OpusEncoder
	hdr   rtp.Header
	buf   []byte

	hang     int           // ticks the member stays in the mix since it last spoke
	level    int64         // smoothed mean square of its voice, to rank talkers (audio clock only)
	pcm      []int16       // this tick's frame while it is a candidate for the mix
	speaking bool          // in the mix this tick
	paused   bool          // its own mix-minus is silent and one silent frame has been sent
	sent     atomic.Uint64 // packets of its mix sent, for the log when it leaves
}
