package media

import (
	"errors"
	"testing"

	"github.com/pion/rtp"
)

type countSink struct {
	n   int
	err error
}

func (c *countSink) WriteRTP(h *rtp.Header, p []byte) error { c.n++; return c.err }

func TestFanoutDeliversToEverySinkAndSkipsFailures(t *testing.T) {
	var ctr Counters
	f := NewFanout(&ctr)
	a, b, bad := &countSink{}, &countSink{}, &countSink{err: errors.New("x")}
	f.Add(a)
	f.Add(a) // duplicate ignored
	f.Add(bad)
	f.Add(b)
	h := &rtp.Header{}
	f.Write(h, make([]byte, 100))
	if a.n != 1 || b.n != 1 || bad.n != 1 {
		t.Fatalf("deliveries a=%d b=%d bad=%d", a.n, b.n, bad.n)
	}
	if ctr.Packets.Load() != 2 || ctr.Bytes.Load() != 200 || ctr.Errors.Load() != 1 {
		t.Fatalf("counters %d %d %d", ctr.Packets.Load(), ctr.Bytes.Load(), ctr.Errors.Load())
	}
	f.Remove(a)
	f.Write(h, nil)
	if a.n != 1 || b.n != 2 || f.Len() != 2 {
		t.Fatalf("after remove a=%d b=%d len=%d", a.n, b.n, f.Len())
	}
}

func TestRewriterContinuousAcrossSourceSwitch(t *testing.T) {
	var r Rewriter
	s1, _ := r.Rewrite(&rtp.Header{SSRC: 1, SequenceNumber: 100, Timestamp: 1000})
	s2, t2 := r.Rewrite(&rtp.Header{SSRC: 1, SequenceNumber: 101, Timestamp: 4000})
	if s1 != 100 || s2 != 101 || t2 != 4000 {
		t.Fatalf("passthrough: %d %d %d", s1, s2, t2)
	}
	s3, t3 := r.Rewrite(&rtp.Header{SSRC: 2, SequenceNumber: 60000, Timestamp: 77})
	if s3 != 102 || t3 != 4000+tsGap {
		t.Fatalf("switch: seq %d ts %d", s3, t3)
	}
	s4, _ := r.Rewrite(&rtp.Header{SSRC: 2, SequenceNumber: 60001, Timestamp: 3077})
	if s4 != 103 {
		t.Fatalf("after switch seq %d", s4)
	}
	// a late packet of the new source keeps its relative place and does not move the switch point
	s5, _ := r.Rewrite(&rtp.Header{SSRC: 2, SequenceNumber: 59999, Timestamp: 0})
	if s5 != 101 {
		t.Fatalf("reordered seq %d", s5)
	}
}

type nopSink struct{}

func (nopSink) WriteRTP(*rtp.Header, []byte) error { return nil }

// BenchmarkFanout measures the per-packet cost of the forwarding fan-out (one sink: the 1:1 shape).
func BenchmarkFanout(b *testing.B) {
	var ctr Counters
	f := NewFanout(&ctr)
	f.Add(nopSink{})
	h := &rtp.Header{Version: 2, SSRC: 1}
	payload := make([]byte, 1200)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.SequenceNumber = uint16(i)
		f.Write(h, payload)
	}
}
