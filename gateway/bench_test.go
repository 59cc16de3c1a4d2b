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

// benchLegs makes n legs (no SIP) whose RTP goes to one phone socket that drains it.
func benchLegs(b *testing.B, n int) (*Gateway, []*Leg, *net.UDPConn) {
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
	o := Offer{Remote: phone.LocalAddr().(*net.UDPAddr).AddrPort(), Law: ptPCMU, PT: ptPCMU, Event: 101, Dir: SendRecv}
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
	buf := make([]byte, 1500)
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		pkt[2], pkt[3] = byte(i>>8), byte(i)
		ts := uint32(i * frame8)
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		if _, err := phone.WriteToUDP(pkt, to); err != nil {
			b.Fatal(err)
		}
		now = now.Add(tickPeriod)
		b.StartTimer()
		l.tick(now, 1, buf)
	}
	if l.stats.rx.Load() == 0 {
		b.Fatal("nothing read")
	}
}
