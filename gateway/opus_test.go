package gateway

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/audio"
)

// opusSDP is a phone offering Opus with dynamic payload type 107 (then PCMU) and telephone-event
// at 48000 Hz as 101, RTP at %d, direction %s.
const opusSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio %d RTP/AVP 107 0 101\r\na=rtpmap:107 opus/48000/2\r\na=fmtp:107 useinbandfec=1\r\na=rtpmap:0 PCMU/8000\r\n" +
	"a=rtpmap:101 telephone-event/48000\r\na=fmtp:101 0-15\r\na=%s\r\n"

// opusPhone is a fake phone in an Opus call: its dialog, its RTP socket and what that receives.
type opusPhone struct {
	leg  *Leg
	dlg  *sipgo.DialogClientSession
	conn *net.UDPConn
	got  *rtpLog
}

// callOpus calls gw from a fake phone offering sdp (with %d for its RTP port and %s for sendrecv).
func callOpus(t *testing.T, gw *Gateway, q *fakeQueue, user, sdp string) *opusPhone {
	t.Helper()
	phone := newSIPPeer(t, user)
	conn := rtpSocket(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dlg, err := phone.invite(ctx, gw, "100", fmt.Appendf(nil, sdp, conn.LocalAddr().(*net.UDPAddr).Port, "sendrecv"))
	if err != nil {
		t.Fatal(err)
	}
	p := &opusPhone{dlg: dlg, conn: conn, got: &rtpLog{}}
	select {
	case got := <-q.got:
		p.leg = got.ep.(*Leg)
	case <-ctx.Done():
		t.Fatal("not queued")
	}
	go readRTP(conn, p.got.add)
	return p
}

// opusTone is n 20 ms Opus packets of a tone at hz, as a phone or a browser would send them.
func opusTone(t testing.TB, hz float64, n int) [][]byte {
	t.Helper()
	enc, err := audio.NewOpusEncoder(audio.OpusConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, frame48)
	pkts := make([][]byte, n)
	for i := range pkts {
		tone(pcm, hz, 48000, i*frame48)
		p, err := enc.Encode(pcm, make([]byte, 1500))
		if err != nil {
			t.Fatal(err)
		}
		pkts[i] = p
	}
	return pkts
}

// sendEvery sends each of pkts (as RTP from ssrc, sequence numbers from seq0) to `to` every 20 ms,
// or until stop is closed; done is closed when it returns.
func sendEvery(c *net.UDPConn, to *net.UDPAddr, pt uint8, ssrc uint32, seq0 uint16, pkts [][]byte, stop chan struct{}) (done chan struct{}) {
	done = make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for i, p := range pkts {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			h := rtp.Header{Version: 2, PayloadType: pt, SSRC: ssrc, SequenceNumber: seq0 + uint16(i), Timestamp: 5000 + uint32(i*frame48)}
			b, _ := (&rtp.Packet{Header: h, Payload: p}).Marshal()
			_, _ = c.WriteToUDP(b, to)
		}
	}()
	return done
}

// An Opus phone: its offer is answered with Opus (over PCMU, which it lists second) and
// telephone-event at 48000 Hz. Its packets reach the RTP sinks of the leg's source untouched,
// renumbered into one stream (the source's SSRC, payload type 111, sequence numbers going on by one
// across the phone's change of SSRC), and its voice reaches a PCM sink (the MCU's mixer) decoded.
func TestOpusPhoneSpeaks(t *testing.T) {
	q := newFakeQueue()
	gw := startGateway(t, Config{}, q)
	p := callOpus(t, gw, q, "olga", opusSDP)
	answer := string(p.dlg.InviteResponse.Body())
	for _, want := range []string{" RTP/AVP 107 101\r\n", "a=rtpmap:107 opus/48000/2\r\n", "a=fmtp:107 minptime=10;useinbandfec=1\r\n", "a=rtpmap:101 telephone-event/48000\r\n"} {
		if !strings.Contains(answer, want) {
			t.Fatalf("answer lacks %q:\n%s", want, answer)
		}
	}
	leg := p.leg
	if leg.codec != codecOpus || leg.pt != 107 || leg.rx.up != nil {
		t.Fatalf("leg codec %d pt %d", leg.codec, leg.pt)
	}

	pkts := opusTone(t, 700, 100)
	sent := map[string]bool{}
	for _, pk := range pkts {
		sent[string(pk)] = true
	}
	var mu sync.Mutex
	var fwd []rtp.Packet
	sink := &counter{fn: func(h *rtp.Header, payload []byte) {
		mu.Lock()
		fwd = append(fwd, rtp.Packet{Header: *h, Payload: append([]byte(nil), payload...)})
		mu.Unlock()
	}}
	_ = leg.Sources()[0].AddSink(sink)
	var up pcmCounter
	if err := leg.Sources()[0].(media.PCMSource).AddPCMSink(&up); err != nil {
		t.Fatal(err)
	}
	to := net.UDPAddrFromAddrPort(leg.remoteOfLocal())
	stop := make(chan struct{})
	defer close(stop)
	// The phone's stream, then the same phone restarting with another SSRC and numbering.
	first := sendEvery(p.conn, to, 107, 0x1111, 65500, pkts[:50], stop) // across the wrap
	<-first
	second := sendEvery(p.conn, to, 107, 0x2222, 7, pkts[50:], stop)
	<-second
	eventually(t, "the phone's packets at the RTP sink", func() bool { return sink.count() >= 95 })
	eventually(t, "the phone's tone at the PCM sink", func() bool { return up.tone.Load() >= 50 })

	mu.Lock()
	defer mu.Unlock()
	markers := 0
	for i, f := range fwd {
		if !sent[string(f.Payload)] {
			t.Fatalf("packet %d: payload changed on the way (%d bytes)", i, len(f.Payload))
		}
		if f.SSRC != leg.rx.h.SSRC || f.PayloadType != 111 {
			t.Fatalf("packet %d: SSRC %x PT %d, want the source's %x and 111", i, f.SSRC, f.PayloadType, leg.rx.h.SSRC)
		}
		if i > 0 {
			if f.SequenceNumber != fwd[i-1].SequenceNumber+1 {
				t.Fatalf("packet %d: sequence %d after %d", i, f.SequenceNumber, fwd[i-1].SequenceNumber)
			}
			if d := f.Timestamp - fwd[i-1].Timestamp; d < frame48 || d > 20*frame48 {
				t.Fatalf("packet %d: timestamp step %d", i, d)
			}
		}
		if f.Marker {
			markers++
		}
	}
	if markers > 2 {
		t.Fatalf("%d packets with the marker bit, want one per stream start", markers)
	}
	t.Logf("%d packets forwarded, %d PCM frames with the tone of %d", len(fwd), up.tone.Load(), up.frames.Load())
}

// What an Opus phone hears: an Opus source passed through (payload untouched, the leg's SSRC,
// sequence numbers and the phone's payload type), stopped while the phone holds and going on in the
// same numbering when it resumes; then a mixer's PCM, encoded to Opus once.
func TestOpusPhoneHears(t *testing.T) {
	q := newFakeQueue()
	gw := startGateway(t, Config{}, q)
	p := callOpus(t, gw, q, "olga", opusSDP)
	leg := p.leg

	voice := newOpusSource("agent-mic", media.Audio)
	if err := leg.Attach(voice); err != nil {
		t.Fatal(err)
	}
	pkts := opusTone(t, 1180, 50)
	sent := map[string]bool{}
	for _, pk := range pkts {
		sent[string(pk)] = true
	}
	stop := make(chan struct{})
	feedDone := make(chan struct{})
	go func() {
		defer close(feedDone)
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		h := rtp.Header{Version: 2, PayloadType: 111, SSRC: 9}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			h.SequenceNumber, h.Timestamp = uint16(i), uint32(i*frame48)
			voice.fan.Write(&h, pkts[i%len(pkts)])
		}
	}()
	eventually(t, "the voice at the phone", func() bool { return len(p.got.snapshot()) >= 20 })

	// Hold, then resume.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	port := p.conn.LocalAddr().(*net.UDPAddr).Port
	res, err := reinvite(ctx, p.dlg, fmt.Appendf(nil, opusSDP, port, "sendonly"))
	if err != nil || res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=recvonly") || !strings.Contains(string(res.Body()), "opus/48000/2") {
		t.Fatalf("hold answer %v: %v", res, err)
	}
	time.Sleep(100 * time.Millisecond)
	held := len(p.got.snapshot())
	time.Sleep(300 * time.Millisecond)
	if n := len(p.got.snapshot()) - held; n > 0 {
		t.Fatalf("the phone on hold got %d packets", n)
	}
	res, err = reinvite(ctx, p.dlg, fmt.Appendf(nil, opusSDP, port, "sendrecv"))
	if err != nil || res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=sendrecv") {
		t.Fatalf("resume answer %v: %v", res, err)
	}
	eventually(t, "the voice after resume", func() bool { return len(p.got.snapshot()) >= held+20 })
	// A re-offer without Opus would change the codec: refused.
	res, err = reinvite(ctx, p.dlg, phoneSDP(port, "sendrecv"))
	if err != nil || res.StatusCode != 488 {
		t.Fatalf("a re-offer of PCMU only: %v, %v", res, err)
	}
	close(stop)
	<-feedDone

	got := p.got.snapshot()
	resumed := false
	for i, g := range got {
		if g.PayloadType != 107 || !sent[string(g.Payload)] {
			t.Fatalf("packet %d: PT %d, payload of %d bytes not one of the source's", i, g.PayloadType, len(g.Payload))
		}
		if g.SSRC != got[0].SSRC || g.SSRC == 9 {
			t.Fatalf("packet %d: SSRC %x (first %x)", i, g.SSRC, got[0].SSRC)
		}
		if i == 0 {
			continue
		}
		if g.SequenceNumber != got[i-1].SequenceNumber+1 {
			t.Fatalf("packet %d: sequence %d after %d", i, g.SequenceNumber, got[i-1].SequenceNumber)
		}
		d := g.Timestamp - got[i-1].Timestamp
		switch {
		case i == held && g.Marker && d > 10*frame48:
			resumed = true // the time on hold passed on the phone's timeline
		case d != frame48:
			t.Fatalf("packet %d: timestamp step %d (marker %v, held at %d)", i, d, g.Marker, held)
		}
	}
	if !resumed {
		t.Fatal("no marked packet after the resume")
	}

	// A mixer's PCM reaches the phone as Opus that decodes to the tone.
	mix := &pcmMix{opusSource: newOpusSource("mix", media.Audio)}
	if err := leg.Attach(mix); err != nil {
		t.Fatal(err)
	}
	if mix.fan.Len() != 0 {
		t.Fatal("the leg subscribed to the mix's Opus as well")
	}
	dec, _ := audio.NewOpusDecoder()
	var heard atomic.Int64
	n0 := len(p.got.snapshot())
	stopMix := mixTone(mix.write, 780)
	defer stopMix()
	out := make([]int16, maxOpusSamples)
	eventually(t, "the mix's tone at the phone", func() bool {
		heard.Store(0)
		for _, g := range p.got.snapshot()[n0:] {
			if n, err := dec.Decode(g.Payload, out); err == nil && g.PayloadType == 107 && power(out[:n], 780, 48000) > 1e6 {
				heard.Add(1)
			}
		}
		return heard.Load() >= 20
	})
}

// Phones hearing phones: an Opus phone heard by another Opus phone is passed through; heard by a
// G.711 phone it is decoded to 8 kHz; a G.711 phone heard by an Opus phone is encoded from 8 kHz.
func TestOpusPhonesHearPhones(t *testing.T) {
	q := newFakeQueue()
	gw := startGateway(t, Config{}, q)
	a := callOpus(t, gw, q, "alice", opusSDP)
	b := callOpus(t, gw, q, "bob", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=%s\r\n")
	c := callOpus(t, gw, q, "carol", opusSDP)
	if b.leg.codec != ptPCMA {
		t.Fatalf("bob's codec %d", b.leg.codec)
	}
	for _, x := range []struct{ l, src *Leg }{{b.leg, a.leg}, {c.leg, a.leg}, {a.leg, b.leg}} {
		if err := x.l.Attach(x.src.Sources()[0]); err != nil {
			t.Fatal(err)
		}
	}
	pkts := opusTone(t, 700, 100)
	sent := map[string]bool{}
	for _, pk := range pkts {
		sent[string(pk)] = true
	}
	stop := make(chan struct{})
	defer close(stop)
	sendEvery(a.conn, net.UDPAddrFromAddrPort(a.leg.remoteOfLocal()), 107, 1, 0, pkts, stop)
	stopBob := phoneTone(b.conn, net.UDPAddrFromAddrPort(b.leg.remoteOfLocal()), 1180, ptPCMA, nil) // bob's PCMA tone
	defer stopBob()
	dec, _ := audio.NewOpusDecoder()
	out := make([]int16, maxOpusSamples)
	count := func(p *opusPhone, f func(rtp.Packet) bool) int {
		n := 0
		for _, g := range p.got.snapshot() {
			if f(g) {
				n++
			}
		}
		return n
	}
	eventually(t, "alice's Opus at carol untouched", func() bool {
		return count(c, func(g rtp.Packet) bool { return g.PayloadType == 107 && sent[string(g.Payload)] }) >= 20
	})
	if n := count(c, func(g rtp.Packet) bool { return !sent[string(g.Payload)] }); n > 0 {
		t.Fatalf("carol got %d packets that are not alice's", n)
	}
	eventually(t, "alice's tone at bob in PCMA", func() bool {
		return count(b, func(g rtp.Packet) bool {
			return g.PayloadType == 8 && power(audio.DecodeALaw(nil, g.Payload), 700, 8000) > 1e6
		}) >= 20
	})
	eventually(t, "bob's tone at alice in Opus", func() bool {
		return count(a, func(g rtp.Packet) bool {
			n, err := dec.Decode(g.Payload, out)
			return err == nil && g.PayloadType == 107 && power(out[:n], 1180, 48000) > 1e6
		}) >= 20
	})
	if n := len(a.leg.src.pcm.Load()); n != 0 {
		t.Fatalf("alice's source has %d PCM sinks", n)
	}
}

// Digits to an Opus phone use the telephone-event clock it negotiated: 100 ms is 4800 at 48000 Hz
// (800 at 8000 Hz, when that is all the phone offers), the audio passed through steps over the
// tone in 48 kHz units, and events and audio share one SSRC and sequence. Digits from the phone
// are decoded.
func TestOpusDigits(t *testing.T) {
	for _, tc := range []struct {
		name string
		sdp  string
		rate int
	}{
		{"48000", opusSDP, 48000},
		{"8000", strings.Replace(opusSDP, "telephone-event/48000", "telephone-event/8000", 1), 8000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := newFakeQueue()
			gw := startGateway(t, Config{}, q)
			p := callOpus(t, gw, q, "olga", tc.sdp)
			if !strings.Contains(string(p.dlg.InviteResponse.Body()), fmt.Sprintf("a=rtpmap:101 telephone-event/%d\r\n", tc.rate)) {
				t.Fatalf("answer:\n%s", p.dlg.InviteResponse.Body())
			}
			var digits atomic.Value
			digits.Store("")
			p.leg.OnDigit(func(r rune) { digits.Store(digits.Load().(string) + string(r)) })
			to := net.UDPAddrFromAddrPort(p.leg.remoteOfLocal())
			for j, end := range []bool{false, false, true, true, true} {
				ev := []byte{9, 10, 0, 0}
				dur := (j + 1) * tc.rate / 50
				ev[2], ev[3] = byte(dur>>8), byte(dur)
				if end {
					ev[1] |= 0x80
				}
				b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SSRC: 1, SequenceNumber: uint16(j), Timestamp: 48000}, Payload: ev}).Marshal()
				_, _ = p.conn.WriteToUDP(b, to)
			}
			eventually(t, "digit 9 from the phone", func() bool { return digits.Load().(string) == "9" })

			voice := newOpusSource("agent-mic", media.Audio)
			if err := p.leg.Attach(voice); err != nil {
				t.Fatal(err)
			}
			feeding := feedOpus(t, voice, 1180)
			defer close(feeding)
			eventually(t, "audio at the phone", func() bool { return len(p.got.snapshot()) >= 5 })
			if err := p.leg.SendDigits("42"); err != nil {
				t.Fatal(err)
			}
			eventually(t, "2 digits", func() bool { return len(p.got.decoded(101)) == 2 })
			time.Sleep(200 * time.Millisecond)
			if got := p.got.decoded(101); got != "42" {
				t.Fatalf("the phone decoded %q", got)
			}
			var lastEv uint32
			inEvent := false
			got := p.got.snapshot()
			for i, g := range got {
				if i > 0 && (g.SequenceNumber != got[i-1].SequenceNumber+1 || g.SSRC != got[0].SSRC) {
					t.Fatalf("packet %d: SSRC %x sequence %d after %x/%d: audio and events share one stream", i, g.SSRC, g.SequenceNumber, got[0].SSRC, got[i-1].SequenceNumber)
				}
				switch g.PayloadType {
				case 101:
					dur := int(g.Payload[2])<<8 | int(g.Payload[3])
					if g.Payload[1]&0x80 != 0 && dur != digitTicks*tc.rate/50 {
						t.Fatalf("packet %d: end duration %d, want %d", i, dur, digitTicks*tc.rate/50)
					}
					lastEv, inEvent = g.Timestamp, true
				case 107:
					if inEvent && g.Timestamp-lastEv < digitTicks*frame48 {
						t.Fatalf("packet %d: audio at %d within the tone at %d", i, g.Timestamp, lastEv)
					}
				default:
					t.Fatalf("packet %d: payload type %d", i, g.PayloadType)
				}
			}
		})
	}
}

// An answered number that takes Opus is an Opus leg: the room's Opus reaches it untouched.
func TestDialAnsweredOpus(t *testing.T) {
	media8 := rtpSocket(t)
	tr := newTrunk(t, func(tr *trunk, req *sip.Request, tx sip.ServerTransaction) {
		dlg, err := tr.cache.ReadInvite(req, tx)
		if err != nil {
			return
		}
		sdp := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 111 110\r\n"+
			"a=rtpmap:111 opus/48000/2\r\na=rtpmap:110 telephone-event/48000\r\n", media8.LocalAddr().(*net.UDPAddr).Port)
		_ = dlg.RespondSDP([]byte(sdp))
	})
	gw := startGateway(t, Config{Trunk: Trunk{URI: tr.uri()}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ep, err := gw.Dial(ctx, "5550100", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close(nil)
	leg := ep.(*Leg)
	if leg.codec != codecOpus || leg.pt != 111 || leg.event.Load() != 110 || leg.evRate.Load() != 48000 {
		t.Fatalf("leg codec %d/%d, events %d/%d", leg.codec, leg.pt, leg.event.Load(), leg.evRate.Load())
	}
	got := &rtpLog{}
	go readRTP(media8, got.add)
	voice := newOpusSource("mic", media.Audio)
	if err := ep.Attach(voice); err != nil {
		t.Fatal(err)
	}
	pkts := opusTone(t, 1180, 30)
	for i, pk := range pkts {
		voice.fan.Write(&rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(i * frame48)}, pk)
		time.Sleep(5 * time.Millisecond)
	}
	eventually(t, "the voice at the callee", func() bool { return len(got.snapshot()) == len(pkts) })
	for i, g := range got.snapshot() {
		if g.PayloadType != 111 || !bytes.Equal(g.Payload, pkts[i]) {
			t.Fatalf("packet %d: PT %d, payload changed", i, g.PayloadType)
		}
	}
}
