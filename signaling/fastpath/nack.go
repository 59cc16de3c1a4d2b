package fastpath

import (
	"slices"

	"github.com/pion/rtcp"
)

// lossLog finds the packets of one received stream that never came, to ask the sender for them
// again (RFC 4585 generic NACK), as pion's NACK generator did before the stream left pion's path.
type lossLog struct {
	started bool
	highest uint16
	missing map[uint16]uint8 // sequence -> NACKs sent for it
}

const (
	// maxGap is the largest jump in sequence taken as loss; a bigger one is a restart, not loss.
	maxGap = 200
	// nackTries is how many times a missing packet is asked for.
	nackTries = 3
)

// seen notes an arriving sequence number.
func (l *lossLog) seen(seq uint16) {
	if !l.started {
		l.started, l.highest = true, seq
		return
	}
	switch d := int16(seq - l.highest); {
	case d > 0:
		if d <= maxGap {
			for m := l.highest + 1; m != seq; m++ {
				if l.missing == nil {
					l.missing = map[uint16]uint8{}
				}
				l.missing[m] = 0
			}
		}
		l.highest = seq
	default: // late, or the retransmission of one asked for
		delete(l.missing, seq)
	}
}

// take returns the sequence numbers to ask for now, each at most nackTries times, and forgets
// those that fell too far behind to be of use.
func (l *lossLog) take(buf []uint16) []uint16 {
	for seq, n := range l.missing {
		if n >= nackTries || uint16(l.highest-seq) > maxGap {
			delete(l.missing, seq)
			continue
		}
		l.missing[seq] = n + 1
		buf = append(buf, seq)
	}
	slices.SortFunc(buf, func(a, b uint16) int { return int(int16(a - b)) })
	return buf
}

// nackPacket builds the NACK for stream ssrc asking for seqs.
func nackPacket(sender, ssrc uint32, seqs []uint16) rtcp.Packet {
	return &rtcp.TransportLayerNack{SenderSSRC: sender, MediaSSRC: ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)}
}
