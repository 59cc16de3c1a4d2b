package gateway

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/media"
)

// garbageRTP is what arrives on a phone's RTP port besides its voice: scanners, a confused
// device, a truncated or hostile packet.
var garbageRTP = [][]byte{
	{},
	{0x80},
	{0x80, 0x00, 0x00},
	make([]byte, 11),                        // one byte short of a header
	{0x40, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, // RTP version 1
	{0x8f, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, // 15 CSRCs announced, none present
	{0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1},                // an extension header cut short
	{0xa0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 1, 200},              // padding longer than the packet
	{0xa0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0},                   // padding count 0
	{0x80, 0x65, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1, 1},                // a telephone-event cut short
	{0x80, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1}, // PCMU with no payload
	[]byte("INVITE sip:100@127.0.0.1 SIP/2.0\r\n\r\n"),
}

// FuzzRTPReceive feeds anything to a phone leg's receiving path (G.711 and Opus legs), then plays
// a frame: nothing may panic, and the leg goes on.
func FuzzRTPReceive(f *testing.F) {
	for _, g := range garbageRTP {
		f.Add(g, false)
		f.Add(g, true)
	}
	pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 7, Timestamp: 160, SSRC: 9}, Payload: make([]byte, 160)}).Marshal()
	f.Add(pkt, false)
	gw, err := New(Config{Listen: "127.0.0.1:0"}, WithLogger(testLogger()))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = gw.Close() })
	remote := netip.MustParseAddrPort("127.0.0.1:9")
	legs := map[bool]*Leg{}
	for _, opus := range []bool{false, true} {
		o := Offer{Remote: remote, Law: ptPCMU, PT: ptPCMU, Event: 101, Dir: SendRecv}
		if opus {
			o.Law, o.PT = codecOpus, 111
		}
		l, err := gw.newLeg("tel:fuzz", "fuzz", o, testLogger())
		if err != nil {
			f.Fatal(err)
		}
		l.OnDigit(func(rune) {})
		_ = l.src.AddSink(&counter{fn: func(*rtp.Header, []byte) {}})
		f.Cleanup(func() { l.terminate(nil, false) })
		legs[opus] = l
	}
	f.Fuzz(func(t *testing.T, b []byte, opus bool) {
		l := legs[opus]
		now := time.Now()
		l.receive(b, remote, now, now.UnixNano())
		l.play()
	})
}

// Garbage on a leg's RTP port, from the phone's address and from elsewhere, is dropped: the
// phone's voice keeps flowing, the leg stays up and still sends to the phone.
func TestGarbageRTPKeepsTheCall(t *testing.T) {
	leg, media8 := phoneCall(t, pcmuSDP)
	sink, toneFrames := opusToneSink(700)
	_ = leg.Sources()[0].AddSink(sink)
	stranger := rtpSocket(t)
	gwRTP := net.UDPAddrFromAddrPort(leg.remoteOfLocal())
	stop := phoneTone(media8, gwRTP, 700, ptPCMU, func(i int, pkt []byte) []byte {
		_, _ = media8.WriteToUDP(pkt, gwRTP)
		g := garbageRTP[i%len(garbageRTP)]
		_, _ = stranger.WriteToUDP(g, gwRTP)
		return g // from the phone's own address too
	})
	defer stop()
	eventually(t, "the phone's tone through the garbage", func() bool { return toneFrames.Load() >= 50 })
	if err := context.Cause(leg.Context()); err != nil {
		t.Fatalf("the leg ended: %v", err)
	}
	// Symmetric RTP latched onto the phone, not the stranger.
	if r := leg.remote.Load(); r == nil || r.ap.Port() != uint16(media8.LocalAddr().(*net.UDPAddr).Port) {
		t.Fatalf("our RTP now goes to %v", r)
	}
	// And the phone still hears us.
	voice := newOpusSource("agent", media.Audio)
	if err := leg.Attach(voice); err != nil {
		t.Fatal(err)
	}
	heard := hearsPCMU(media8, 1180)
	feeding := feedOpus(t, voice, 1180)
	defer close(feeding)
	eventually(t, "the agent's voice at the phone", func() bool { return heard.Load() >= 10 })
}
