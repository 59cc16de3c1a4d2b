package gateway

import (
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/audio"
)

// benchLegs makes n PCMU legs (no SIP) whose RTP goes to one phone socket that drains it.
func benchLegs(b *testing.B, n int) (*Gateway, []*Leg, *net.UDPConn) {
	return benchLegsIn(b, n, ptPCMU, ptPCMU)
}

// benchLegsIn makes n legs in codec (payload type pt) whose RTP goes to one phone socket that
// drains it.
func benchLegsIn(b *testing.B, n int, codec, pt uint8) (*Gateway, []*Leg, *net.UDPConn) {
	b.Helper()
	g, err := New(Config{Listen: "127.0.0.1:0", Transports: []string{"udp"}, RTPTimeout: time.Minute}, WithLogger(testLogger()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = g.Close() })
	phone, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	_ = phone.SetReadBuffer(8 << 20)
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := phone.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	b.Cleanup(func() { _ = phone.Close() })
	o := Offer{Remote: phone.LocalAddr().(*net.UDPAddr).AddrPort(), Law: codec, PT: pt, Event: 101, EventRate: 8000, Dir: SendRecv}
	legs := make([]*Leg, n)
	for i := range legs {
		l, err := g.newLeg(call.PartyID("tel:bench"), "bench", o, testLogger())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { l.terminate(nil, false) })
		legs[i] = l
	}
	return g, legs, phone
}

// One music packet to 100 queued phones: one Opus decode and G.711 encode, then 100 stamped
// headers and sends (the sends dominate).
func BenchmarkMusicTo100Legs(b *testing.B) { benchDown(b, 100) }

// One packet of an agent's voice to the one phone hearing it: the whole transcoding per packet.
func BenchmarkVoiceToLeg(b *testing.B) { benchDown(b, 1) }

func benchDown(b *testing.B, n int) {
	_, legs, _ := benchLegs(b, n)
	music := newOpusSource("music", media.Audio)
	for _, l := range legs {
		if err := l.Attach(music); err != nil {
			b.Fatal(err)
		}
	}
	enc, _ := audio.NewOpusEncoder(audio.OpusConfig{})
	pcm := make([]int16, frame48)
	var pkts [][]byte
	for i := range 50 {
		tone(pcm, 440, 48000, i*frame48)
		p, _ := enc.Encode(pcm, make([]byte, 1500))
		pkts = append(pkts, p)
	}
	h := rtp.Header{Version: 2, PayloadType: 111}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.SequenceNumber = uint16(i)
		music.fan.Write(&h, pkts[i%len(pkts)])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/leg")
}

// One clock step of a queued phone: its packet read from the socket into the jitter buffer and
// one frame released unencoded (nobody listens).
func BenchmarkQueuedLegTick(b *testing.B) {
	benchTick(b, false)
}

// The same with someone listening: the frame is decoded, resampled and encoded to Opus.
func BenchmarkListenedLegTick(b *testing.B) {
	benchTick(b, true)
}

func benchTick(b *testing.B, listened bool) {
	_, legs, phone := benchLegs(b, 1)
	l := legs[0]
	if listened {
		_ = l.src.AddSink(&counter{})
	}
	to := net.UDPAddrFromAddrPort(l.conn.LocalAddr())
	pcm := make([]int16, frame8)
	tone(pcm, 700, 8000, 0)
	pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 7}, Payload: audio.EncodeULaw(nil, pcm)}).Marshal()
	tickLoop(b, l, phone, to, pkt, frame8)
	if l.stats.rx.Load() == 0 {
		b.Fatal("nothing read")
	}
}

// One music packet to 100 queued Opus phones: no transcoding at all, 100 restamped headers and
// sends.
func BenchmarkOpusMusicTo100Legs(b *testing.B) { benchOpusDown(b, 100) }

// One packet of an agent's voice passed through to the Opus phone hearing it.
func BenchmarkOpusVoiceToLeg(b *testing.B) { benchOpusDown(b, 1) }

func benchOpusDown(b *testing.B, n int) {
	_, legs, _ := benchLegsIn(b, n, codecOpus, 107)
	music := newOpusSource("music", media.Audio)
	for _, l := range legs {
		if err := l.Attach(music); err != nil {
			b.Fatal(err)
		}
	}
	pkts := opusTone(b, 440, 50)
	h := rtp.Header{Version: 2, PayloadType: 111}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.SequenceNumber, h.Timestamp = uint16(i), uint32(i*frame48)
		music.fan.Write(&h, pkts[i%len(pkts)])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/leg")
	if legs[0].stats.tx.Load() == 0 {
		b.Fatal("nothing sent")
	}
}

// One clock step of an Opus phone heard in the SFU: its packet read from the socket and passed to
// the source's RTP sink as it is (nothing decoded: no PCM sink).
func BenchmarkOpusPhoneToSFU(b *testing.B) {
	_, legs, phone := benchLegsIn(b, 1, codecOpus, 107)
	l := legs[0]
	sink := &counter{}
	_ = l.src.AddSink(sink)
	to := net.UDPAddrFromAddrPort(l.conn.LocalAddr())
	pkts := opusTone(b, 700, 1)
	pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 107, SSRC: 7}, Payload: pkts[0]}).Marshal()
	tickLoop(b, l, phone, to, pkt, frame48)
	if sink.count() == 0 {
		b.Fatal("nothing forwarded")
	}
}

// The same with the MCU's mixer listening: the packet also goes through the jitter buffer and is
// decoded to 48 kHz PCM.
func BenchmarkOpusPhoneToMixer(b *testing.B) {
	_, legs, phone := benchLegsIn(b, 1, codecOpus, 107)
	l := legs[0]
	var mix pcmCounter
	_ = l.src.AddPCMSink(&mix)
	to := net.UDPAddrFromAddrPort(l.conn.LocalAddr())
	pkts := opusTone(b, 700, 50)
	buf := make([]byte, 1500)
	wire := make([]byte, 1500)
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		n, _ := (&rtp.Header{Version: 2, PayloadType: 107, SSRC: 7, SequenceNumber: uint16(i), Timestamp: uint32(i * frame48)}).MarshalTo(wire)
		n += copy(wire[n:], pkts[i%len(pkts)])
		if _, err := phone.WriteToUDP(wire[:n], to); err != nil {
			b.Fatal(err)
		}
		now = now.Add(tickPeriod)
		b.StartTimer()
		l.tick(now, 1, buf)
	}
	if mix.frames.Load() == 0 {
		b.Fatal("nothing decoded")
	}
}

// tickLoop times the leg's clock tick: before each, (untimed) the phone sends pkt, renumbered,
// its timestamp stepped by step.
func tickLoop(b *testing.B, l *Leg, phone *net.UDPConn, to *net.UDPAddr, pkt []byte, step int) {
	buf := make([]byte, 1500)
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		pkt[2], pkt[3] = byte(i>>8), byte(i)
		ts := uint32(i * step)
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		if _, err := phone.WriteToUDP(pkt, to); err != nil {
			b.Fatal(err)
		}
		now = now.Add(tickPeriod)
		b.StartTimer()
		l.tick(now, 1, buf)
	}
}
