package gateway

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/media"
)

// rtpPair is a phone's RTP port and its RTCP port (the next one).
func rtpPair(t *testing.T) (*net.UDPConn, *net.UDPConn) {
	t.Helper()
	for range 100 {
		a := rtpSocket(t)
		p := a.LocalAddr().(*net.UDPAddr).Port
		if p%2 != 0 {
			continue
		}
		b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p + 1})
		if err == nil {
			t.Cleanup(func() { _ = b.Close() })
			return a, b
		}
	}
	t.Fatal("no free RTP/RTCP port pair")
	return nil, nil
}

// RTCP both ways (RFC 3550): the gateway's reports reach the phone's RTCP port (RTP port + 1) and
// describe the phone's stream (the 5 packets it never sent count as lost, the highest sequence
// number, the delay since the phone's sender report); the phone's receiver report about our audio
// is read back (loss, jitter). Garbage on the RTCP port changes nothing.
func TestRTCPBothWays(t *testing.T) {
	q := newFakeQueue()
	gw := startGateway(t, Config{RTCPInterval: 200 * time.Millisecond}, q)
	media8, ctl := rtpPair(t)
	phone := newSIPPeer(t, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := phone.invite(ctx, gw, "100", phoneSDP(media8.LocalAddr().(*net.UDPAddr).Port, "sendrecv")); err != nil {
		t.Fatal(err)
	}
	leg := (<-q.got).ep.(*Leg)
	gwRTP := net.UDPAddrFromAddrPort(leg.conn.LocalAddr())
	gwRTCP := &net.UDPAddr{IP: gwRTP.IP, Port: gwRTP.Port + 1}
	if gwRTP.Port%2 != 0 {
		t.Fatalf("RTP on odd port %d", gwRTP.Port)
	}

	const phoneSSRC = 0x1234
	h := rtp.Header{Version: 2, PayloadType: 0, SSRC: phoneSSRC}
	silence := make([]byte, frame8)
	var last uint16
	for i := range 60 {
		if i >= 10 && i < 15 {
			continue // lost on the way
		}
		h.SequenceNumber, h.Timestamp = uint16(1000+i), uint32(i*frame8)
		b, _ := (&rtp.Packet{Header: h, Payload: silence}).Marshal()
		_, _ = media8.WriteToUDP(b, gwRTP)
		last = h.SequenceNumber
	}
	const ntp = uint64(0xe1a2b3c4d5e6f708)
	sr, _ := (&rtcp.SenderReport{SSRC: phoneSSRC, NTPTime: ntp, RTPTime: 60 * frame8, PacketCount: 55}).Marshal()
	if _, err := ctl.WriteToUDP(sr, gwRTCP); err != nil {
		t.Fatal(err)
	}
	_, _ = ctl.WriteToUDP([]byte("not rtcp at all"), gwRTCP)

	var ours uint32
	buf := make([]byte, 1500)
	_ = ctl.SetReadDeadline(time.Now().Add(5 * time.Second))
	for ours == 0 {
		n, _, err := ctl.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("no RTCP report about the phone's stream at its RTCP port: %v", err)
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			t.Fatalf("our RTCP does not parse: %v", err)
		}
		if _, ok := pkts[0].(*rtcp.ReceiverReport); !ok {
			t.Fatalf("first packet %T: we sent no audio, so a receiver report", pkts[0])
		}
		if _, ok := pkts[len(pkts)-1].(*rtcp.SourceDescription); !ok {
			t.Fatalf("no SDES CNAME in %v", pkts)
		}
		rr := pkts[0].(*rtcp.ReceiverReport)
		for _, b := range rr.Reports {
			if b.SSRC == phoneSSRC && b.LastSenderReport != 0 {
				if b.TotalLost != 5 || b.LastSequenceNumber != uint32(last) || b.LastSenderReport != uint32(ntp>>16&0xffffffff) || b.Delay == 0 {
					t.Fatalf("report block %+v: want 5 lost, highest %d, LSR %x and a delay", b, last, uint32(ntp>>16&0xffffffff))
				}
				ours = rr.SSRC
			}
		}
	}

	rr, _ := (&rtcp.ReceiverReport{SSRC: phoneSSRC, Reports: []rtcp.ReceptionReport{
		{SSRC: ours, FractionLost: 64, TotalLost: 7, LastSequenceNumber: 500, Jitter: 80},
	}}).Marshal()
	if _, err := ctl.WriteToUDP(rr, gwRTCP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the phone's report read", func() bool {
		p := leg.peerReport()
		return p.TotalLost == 7 && p.FractionLost == 0.25 && p.Jitter == 10*time.Millisecond
	})

	// Once we send audio, our reports are sender reports counting it.
	voice := newOpusSource("mic", media.Audio)
	if err := leg.Attach(voice); err != nil {
		t.Fatal(err)
	}
	feeding := feedOpus(t, voice, 700)
	defer close(feeding)
	_ = ctl.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, _, err := ctl.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("no sender report while we send audio: %v", err)
		}
		pkts, _ := rtcp.Unmarshal(buf[:n])
		if sr, ok := pkts[0].(*rtcp.SenderReport); ok {
			if sr.SSRC != ours || sr.PacketCount == 0 || sr.OctetCount != sr.PacketCount*frame8 || sr.NTPTime == 0 {
				t.Fatalf("sender report %+v", sr)
			}
			return
		}
	}
}
