package moh

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/contactcenter/vcc/media"
	"github.com/pion/rtp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rec is one packet as a sink saw it.
type rec struct {
	h       rtp.Header
	payload []byte
	at      time.Time
}

// recSink records every packet (copies: a sink must not retain buffers) on a channel the test
// reads, so tests synchronise on deliveries rather than sleeping. It never blocks: if the test
// falls behind, packets are dropped and counted, which the tests check.
type recSink struct {
	ch      chan rec
	dropped int
	stall   func(h *rtp.Header) // optional hook run inside WriteRTP
}

func newRecSink() *recSink { return &recSink{ch: make(chan rec, 1024)} }

func (s *recSink) WriteRTP(h *rtp.Header, payload []byte) error {
	if s.stall != nil {
		s.stall(h)
	}
	select {
	case s.ch <- rec{h: *h, payload: append([]byte(nil), payload...), at: time.Now()}:
	default:
		s.dropped++
		return media.ErrDropped
	}
	return nil
}

func (s *recSink) next(t *testing.T) rec {
	t.Helper()
	select {
	case r := <-s.ch:
		return r
	case <-time.After(2 * time.Second):
		t.Fatal("no packet within 2 s")
		return rec{}
	}
}

func (s *recSink) take(t *testing.T, n int) []rec {
	t.Helper()
	out := make([]rec, n)
	for i := range out {
		out[i] = s.next(t)
	}
	return out
}

// checkContinuous checks that packets follow each other with no gap: sequence +1, timestamp +960.
func checkContinuous(t *testing.T, rs []rec) {
	t.Helper()
	for i := 1; i < len(rs); i++ {
		a, b := rs[i-1].h, rs[i].h
		if b.SequenceNumber != a.SequenceNumber+1 || b.Timestamp != a.Timestamp+960 || b.SSRC != a.SSRC {
			t.Fatalf("packet %d: seq %d->%d ts %d->%d ssrc %x->%x", i, a.SequenceNumber, b.SequenceNumber, a.Timestamp, b.Timestamp, a.SSRC, b.SSRC)
		}
		if b.Marker {
			t.Fatalf("packet %d: marker in the middle of a run", i)
		}
	}
}

// playing reports whether a source's paced goroutine exists.
func playing() bool {
	buf := make([]byte, 1<<20)
	return bytes.Contains(buf[:runtime.Stack(buf, true)], []byte("moh.(*Source).run("))
}

func newTestSource(t *testing.T, opts ...Option) *Source {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSourceDescribesItself(t *testing.T) {
	s := newTestSource(t, WithID("hold-1"))
	c := s.Codec()
	if s.ID() != "hold-1" || s.Label() != "music" || s.Kind() != media.Audio ||
		c.MimeType != "audio/opus" || c.ClockRate != 48000 || c.Channels != 2 || c.SDPFmtpLine != "minptime=10;useinbandfec=1" {
		t.Fatalf("%s %s %v %+v", s.ID(), s.Label(), s.Kind(), c)
	}
	s.RequestKeyframe() // a no-op for audio; must not panic or start anything
	if d := newTestSource(t); d.ID() == "" || d.ID() == newTestSource(t).ID() {
		t.Fatalf("default IDs %q not unique", d.ID())
	}
}

func TestSourcePacesAt50PerSecond(t *testing.T) {
	s := newTestSource(t, WithPayloadType(109))
	// A starved test process (CI under -race) may stall the goroutine past the lag at which it
	// skips; here it must catch up instead, so that the stream stays continuous.
	s.maxLag = time.Hour
	k := newRecSink()
	if err := s.AddSink(k); err != nil {
		t.Fatal(err)
	}
	rs := k.take(t, 51)
	if !rs[0].h.Marker || rs[0].h.Version != 2 || rs[0].h.PayloadType != 109 {
		t.Fatalf("first header %+v", rs[0].h)
	}
	checkContinuous(t, rs)
	// 50 intervals of 20 ms. Scheduled against the start, so timer latency does not add up and a
	// packet is never early; the upper bound leaves room for a loaded CI machine under -race.
	if d := rs[50].at.Sub(rs[0].at); d < 980*time.Millisecond || d > 1250*time.Millisecond {
		t.Fatalf("50 packets took %v, want ~1 s", d)
	}
	a, _ := Embedded()
	for i, r := range rs {
		if !bytes.Equal(r.payload, a.packet(i)) {
			t.Fatalf("packet %d is not asset packet %d", i, i)
		}
	}
}

func TestSourceLoopsContinuously(t *testing.T) {
	a, err := ReadOgg(bytes.NewReader(testOgg(5))) // loops every 100 ms
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSource(t, WithAsset(a))
	k := newRecSink()
	if err := s.AddSink(k); err != nil {
		t.Fatal(err)
	}
	rs := k.take(t, 12)
	checkContinuous(t, rs) // across two loop points
	for i, r := range rs {
		if !bytes.Equal(r.payload, a.packet(i%5)) {
			t.Fatalf("packet %d: payload % x, want asset packet %d", i, r.payload, i%5)
		}
	}
}

func TestSourceSinksGetIdenticalPackets(t *testing.T) {
	s := newTestSource(t)
	k1, k2 := newRecSink(), newRecSink()
	if err := s.AddSink(k1); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSink(k2); err != nil {
		t.Fatal(err)
	}
	// k2 may have missed the first packet or two; line the two up by sequence number.
	r2 := k2.take(t, 5)
	var r1 rec
	for r1 = k1.next(t); r1.h.SequenceNumber != r2[0].h.SequenceNumber; r1 = k1.next(t) {
	}
	for i := range r2 {
		if i > 0 {
			r1 = k1.next(t)
		}
		if r1.h.SequenceNumber != r2[i].h.SequenceNumber || r1.h.Timestamp != r2[i].h.Timestamp ||
			r1.h.SSRC != r2[i].h.SSRC || !bytes.Equal(r1.payload, r2[i].payload) {
			t.Fatalf("packet %d differs: %+v vs %+v", i, r1.h, r2[i].h)
		}
	}
}

func TestSourceRunsOnlyWithSinks(t *testing.T) {
	before := goleak.IgnoreCurrent()
	s := newTestSource(t)
	if err := goleak.Find(before); err != nil {
		t.Fatalf("an idle source runs a goroutine: %v", err)
	}
	k := newRecSink()
	if err := s.AddSink(k); err != nil {
		t.Fatal(err)
	}
	k.next(t)
	if !playing() {
		t.Fatal("no goroutine while a sink listens")
	}
	s.RemoveSink(newRecSink()) // unknown: harmless, keeps playing
	last := k.next(t)
	s.RemoveSink(k)
	goleak.VerifyNone(t, before) // retries until the goroutine has exited

	// All writes are done: the last packet k holds is the last one sent.
	for len(k.ch) > 0 {
		last = <-k.ch
	}
	time.Sleep(50 * time.Millisecond) // a pause the timestamps must show
	if err := s.AddSink(k); err != nil {
		t.Fatal(err)
	}
	first := k.next(t)
	gap := first.h.Timestamp - last.h.Timestamp
	if first.h.SequenceNumber != last.h.SequenceNumber+1 || first.h.SSRC != last.h.SSRC || !first.h.Marker {
		t.Fatalf("resume: %+v after %+v", first.h, last.h)
	}
	// at least the sleep less the one packet interval the run may have been waiting for
	if gap < 960+30*48 || gap > 960+1000*48 {
		t.Fatalf("timestamp advanced %d samples over a 50 ms pause", gap)
	}
	a, _ := Embedded()
	if !bytes.Equal(first.payload, a.packet(0)) {
		t.Fatal("resume does not restart the loop")
	}
}

func TestSourceQuickRemoveAndAdd(t *testing.T) {
	s := newTestSource(t)
	k := newRecSink()
	for range 20 {
		if err := s.AddSink(k); err != nil {
			t.Fatal(err)
		}
		s.RemoveSink(k)
	}
	if err := s.AddSink(k); err != nil {
		t.Fatal(err)
	}
	// Runs take turns, so the packets of all those short runs form one stream: one SSRC, sequence
	// numbers in order, never repeated. (A packet sent just as the sink goes may be lost to it: the
	// fan-out cannot say whom it delivered to, so a gap is possible, a repeat is not.)
	var rs []rec
	for r := k.next(t); ; r = k.next(t) {
		rs = append(rs, r)
		if len(rs) > 1 && !r.h.Marker && rs[len(rs)-2].h.Marker {
			break // two packets into the last run
		}
	}
	for i := 1; i < len(rs); i++ {
		if d := rs[i].h.SequenceNumber - rs[i-1].h.SequenceNumber; d == 0 || d > 2 || rs[i].h.SSRC != rs[0].h.SSRC {
			t.Fatalf("packet %d: seq %d after %d", i, rs[i].h.SequenceNumber, rs[i-1].h.SequenceNumber)
		}
	}
}

func TestSourceSkipsBacklogAfterStall(t *testing.T) {
	s := newTestSource(t)
	k := newRecSink()
	var once sync.Once
	var stallAt uint16
	k.stall = func(h *rtp.Header) {
		if h.Marker {
			stallAt = h.SequenceNumber + 3
		}
		if h.SequenceNumber == stallAt {
			// Breaks the sink contract on purpose: stands in for a starved goroutine.
			once.Do(func() { time.Sleep(300 * time.Millisecond) })
		}
	}
	if err := s.AddSink(k); err != nil {
		t.Fatal(err)
	}
	rs := k.take(t, 8)
	before, after := rs[3], rs[4]
	if after.h.SequenceNumber != before.h.SequenceNumber+1 || !after.h.Marker {
		t.Fatalf("after stall: %+v", after.h)
	}
	if gap := after.h.Timestamp - before.h.Timestamp; gap < 250*48 || gap > 400*48 {
		t.Fatalf("timestamp jumped %d samples over a 300 ms stall", gap)
	}
	// No burst: the packets after the stall are paced again.
	if d := rs[7].at.Sub(rs[4].at); d < 30*time.Millisecond {
		t.Fatalf("3 packets after the stall within %v: a burst", d)
	}
	checkContinuous(t, rs[4:])
}

func TestSourceCloseAndErrors(t *testing.T) {
	before := goleak.IgnoreCurrent()
	s := newTestSource(t)
	if err := s.AddSink(nil); !errors.Is(err, ErrNil) {
		t.Fatalf("nil sink: %v", err)
	}
	s.RemoveSink(nil)
	k := newRecSink()
	if err := s.AddSink(k); err != nil {
		t.Fatal(err)
	}
	k.next(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSink(k); !errors.Is(err, media.ErrClosed) {
		t.Fatalf("AddSink after Close: %v", err)
	}
	s.RemoveSink(k)
	goleak.VerifyNone(t, before)

	if _, err := New(WithAsset(nil)); !errors.Is(err, ErrNil) {
		t.Fatalf("nil asset: %v", err)
	}
	if _, err := New(WithOgg(bytes.NewReader([]byte("junk")))); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad ogg: %v", err)
	}
	if _, err := New(WithPayloadType(128)); err == nil {
		t.Fatal("payload type 128 accepted")
	}
	if s, err := New(WithOgg(bytes.NewReader(testOgg(3)))); err != nil || s.st.asset.Len() != 3 {
		t.Fatalf("WithOgg: %v", err)
	}
}

func TestSourceCountsDeliveries(t *testing.T) {
	var ctr media.Counters
	s := newTestSource(t, WithCounters(&ctr))
	k := newRecSink()
	if err := s.AddSink(k); err != nil {
		t.Fatal(err)
	}
	k.take(t, 3)
	s.Close()
	if ctr.Packets.Load() < 3 || ctr.Bytes.Load() == 0 {
		t.Fatalf("counters %d packets %d bytes", ctr.Packets.Load(), ctr.Bytes.Load())
	}
}

// nopSink stands in for a transport: it reads the packet and keeps nothing.
type nopSink struct{ n int }

func (s *nopSink) WriteRTP(h *rtp.Header, p []byte) error { s.n += len(p); return nil }

func tickStream(t testing.TB, sinks int) *stream {
	a, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	fan := media.NewFanout(nil)
	for range sinks {
		fan.Add(&nopSink{})
	}
	st := newStream(a, fan, defaultPayloadType)
	return &st
}

func TestTickAllocatesNothing(t *testing.T) {
	st := tickStream(t, 4)
	if n := testing.AllocsPerRun(1000, func() { st.send() }); n != 0 {
		t.Fatalf("%v allocations per packet", n)
	}
}

// BenchmarkTick is the work of one 20 ms tick: one packet to every sink through the fan-out.
func BenchmarkTick(b *testing.B) {
	for _, n := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("sinks=%d", n), func(b *testing.B) {
			st := tickStream(b, n)
			b.ReportAllocs()
			for b.Loop() {
				st.send()
			}
		})
	}
}

// selfRemover leaves the source from inside WriteRTP, as a transport might when its peer goes.
type selfRemover struct {
	src  *Source
	done chan struct{}
}

func (s *selfRemover) WriteRTP(*rtp.Header, []byte) error {
	s.src.RemoveSink(s)
	select {
	case s.done <- struct{}{}:
	default:
	}
	return nil
}

func TestSinkMayRemoveItselfWhileWriting(t *testing.T) {
	before := goleak.IgnoreCurrent()
	s := newTestSource(t)
	k := &selfRemover{src: s, done: make(chan struct{}, 1)}
	if err := s.AddSink(k); err != nil {
		t.Fatal(err)
	}
	select {
	case <-k.done:
	case <-time.After(2 * time.Second):
		t.Fatal("no packet")
	}
	goleak.VerifyNone(t, before) // no deadlock, and the goroutine stopped with its last sink
}
