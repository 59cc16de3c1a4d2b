package fastpath

import (
	"slices"
	"testing"

	"github.com/pion/rtcp"
)

func TestLossLogAsksForWhatDidNotCome(t *testing.T) {
	var l lossLog
	for _, s := range []uint16{65533, 65534, 1, 2} { // 65535 and 0 lost across the wrap
		l.seen(s)
	}
	if got := l.take(nil); !slices.Equal(got, []uint16{65535, 0}) {
		t.Fatalf("missing %v, want [65535 0]", got)
	}
	l.seen(0) // the retransmission arrives
	for i := 2; i <= nackTries; i++ {
		if got := l.take(nil); !slices.Equal(got, []uint16{65535}) {
			t.Fatalf("ask %d: %v, want [65535]", i, got)
		}
	}
	if got := l.take(nil); len(got) != 0 {
		t.Errorf("asked for 65535 a %dth time", nackTries+1)
	}
	l.seen(2 + maxGap + 1) // a jump past maxGap is a restart, not loss
	if got := l.take(nil); len(got) != 0 {
		t.Errorf("a restart counted as %d lost packets", len(got))
	}
	p := nackPacket(1, 2, []uint16{10, 11, 13}).(*rtcp.TransportLayerNack)
	var seqs []uint16
	for _, n := range p.Nacks {
		seqs = append(seqs, n.PacketList()...)
	}
	if p.MediaSSRC != 2 || !slices.Equal(seqs, []uint16{10, 11, 13}) {
		t.Errorf("NACK %+v asks for %v", p, seqs)
	}
}
