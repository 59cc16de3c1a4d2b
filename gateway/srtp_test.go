package gateway

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/audio"
)

// srtpSDP is a phone's PCMU offer over RTP/SAVP with key k.
func srtpSDP(port int, k sdesKey) []byte {
	return fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/SAVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"+
		"a=crypto:%s\r\na=sendrecv\r\n", port, k.line())
}

func mustKey(t *testing.T, suite string) sdesKey {
	t.Helper()
	s, _ := suiteNamed(suite)
	k, err := newSDESKey(1, s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// srtpPhone sends a tone as SRTP with its key, swappable mid-call.
type srtpPhone struct {
	mu  sync.Mutex
	ctx *srtp.Context
}

func (p *srtpPhone) setKey(t *testing.T, k sdesKey) {
	c, err := k.context()
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ctx = c
	p.mu.Unlock()
}

// SRTP with SDES keys: a phone offering RTP/SAVP gets an encrypted answer with a key of our own
// in its suite and tag; its encrypted voice reaches the room, our audio and RTCP reach it
// encrypted with our key, packets in the clear (or forged) are dropped, and a re-INVITE with a new
// key rekeys the phone's direction without a gap. Each suite we speak is checked.
func TestSRTPInboundCall(t *testing.T) {
	for _, suite := range []string{"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AEAD_AES_128_GCM"} {
		t.Run(suite, func(t *testing.T) { testSRTPInbound(t, suite) })
	}
}

func testSRTPInbound(t *testing.T, suite string) {
	q := newFakeQueue()
	gw := startGateway(t, Config{RTCPInterval: 200 * time.Millisecond}, q)
	phone := newSIPPeer(t, "alice")
	media8, ctl := rtpPair(t)
	port := media8.LocalAddr().(*net.UDPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	key := mustKey(t, suite)
	dlg, err := phone.invite(ctx, gw, "100", srtpSDP(port, key))
	if err != nil {
		t.Fatal(err)
	}
	answer := string(dlg.InviteResponse.Body())
	sd, err := ParseSDP([]byte(answer))
	if err != nil || !strings.Contains(answer, " RTP/SAVP 0 101") {
		t.Fatalf("answer (%v):\n%s", err, answer)
	}
	o, err := sd.Negotiate(-1)
	if err != nil || o.SRTP == nil || o.SRTP.tag != 1 || o.SRTP.suite.name != suite || string(o.SRTP.key) == string(key.key) {
		t.Fatalf("answer's key %+v (%v): want our own key in %s, tag 1", o.SRTP, err, suite)
	}
	ours, err := o.SRTP.context() // the phone decrypts what we send with it
	if err != nil {
		t.Fatal(err)
	}
	leg := (<-q.got).ep.(*Leg)

	var toneFrames, wrong atomic.Int64
	dec, _ := audio.NewOpusDecoder()
	pcm := make([]int16, 5760)
	_ = leg.Sources()[0].AddSink(&counter{fn: func(h *rtp.Header, p []byte) {
		n, err := dec.Decode(p, pcm)
		if err == nil && power(pcm[:n], 700, 48000) > 1e6 {
			toneFrames.Add(1)
		}
		if err == nil && power(pcm[:n], 1500, 48000) > 1e6 {
			wrong.Add(1)
		}
	}})
	ph := &srtpPhone{}
	ph.setKey(t, key)
	gwRTP := net.UDPAddrFromAddrPort(leg.remoteOfLocal())
	forged := make([]int16, frame8)
	stop := phoneTone(media8, gwRTP, 700, ptPCMU, func(i int, pkt []byte) []byte {
		// An attacker's packet in the clear, of another pitch, with a sequence number ahead.
		tone(forged, 1500, 8000, i*frame8)
		h2 := rtp.Header{Version: 2, PayloadType: 0, SSRC: 1, SequenceNumber: uint16(i + 3), Timestamp: uint32((i + 3) * frame8)}
		b, _ := (&rtp.Packet{Header: h2, Payload: audio.EncodeULaw(nil, forged)}).Marshal()
		_, _ = media8.WriteToUDP(b, gwRTP)
		ph.mu.Lock()
		defer ph.mu.Unlock()
		enc, err := ph.ctx.EncryptRTP(nil, pkt, nil)
		if err != nil {
			return nil
		}
		return enc
	})
	defer stop()
	eventually(t, "the phone's encrypted tone in the room", func() bool { return toneFrames.Load() >= 20 })
	if wrong.Load() != 0 || leg.stats.srtpFail.Load() == 0 {
		t.Fatalf("packets in the clear: %d heard, %d refused", wrong.Load(), leg.stats.srtpFail.Load())
	}

	// Our audio reaches the phone encrypted with our key.
	voice := newOpusSource("agent", media.Audio)
	if err := leg.Attach(voice); err != nil {
		t.Fatal(err)
	}
	var heard, clear atomic.Int64
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := media8.ReadFromUDP(buf)
			if err != nil {
				return
			}
			raw := append([]byte(nil), buf[:n]...)
			plain, err := ours.DecryptRTP(nil, raw, nil)
			var p rtp.Packet
			if err == nil && p.Unmarshal(plain) == nil && p.PayloadType == 0 && power(audio.DecodeULaw(nil, p.Payload), 1180, 8000) > 1e6 {
				heard.Add(1)
				if hn := len(plain) - len(p.Payload); string(raw[hn:hn+len(p.Payload)]) == string(p.Payload) {
					clear.Add(1) // the payload on the wire is the audio itself: not encrypted
				}
			}
		}
	}()
	feeding := feedOpus(t, voice, 1180)
	defer close(feeding)
	eventually(t, "our audio at the phone, decrypted with our key", func() bool { return heard.Load() >= 10 })
	if clear.Load() != 0 {
		t.Fatalf("%d of our packets readable in the clear", clear.Load())
	}
	// RTCP goes out as SRTCP.
	buf := make([]byte, 1500)
	_ = ctl.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := ctl.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no RTCP: %v", err)
	}
	plain, err := ours.DecryptRTCP(nil, buf[:n], nil)
	if err != nil {
		t.Fatalf("our RTCP does not decrypt with our key: %v", err)
	}
	if pkts, err := rtcp.Unmarshal(plain); err != nil || len(pkts) < 2 {
		t.Fatalf("SRTCP content %v: %v", pkts, err)
	}

	// The phone rekeys with a re-INVITE: our key stays, its new one is used from now on.
	key2 := mustKey(t, suite)
	res, err := reinvite(ctx, dlg, srtpSDP(port, key2))
	if err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("rekey: %v, %v", res, err)
	}
	sd2, _ := ParseSDP(res.Body())
	if o2, err := sd2.Negotiate(-1); err != nil || o2.SRTP == nil || string(o2.SRTP.key) != string(o.SRTP.key) {
		t.Fatalf("our key changed on the phone's rekey: %+v, %v", o2.SRTP, err)
	}
	ph.setKey(t, key2)
	before := toneFrames.Load()
	eventually(t, "the tone with the phone's new key", func() bool { return toneFrames.Load() >= before+20 })

	// Switching to plain RTP within the call is refused.
	if res, err := reinvite(ctx, dlg, phoneSDP(port, "sendrecv")); err != nil || res.StatusCode != sip.StatusNotAcceptableHere {
		t.Fatalf("a re-offer in the clear: %v, %v; want 488", res, err)
	}
}

// sip.srtp: "required" refuses offers in the clear, "off" refuses RTP/SAVP, with 488; offers with
// only suites we do not speak (or an MKI) are refused too.
func TestSRTPPolicy(t *testing.T) {
	key := mustKey(t, "AES_CM_128_HMAC_SHA1_80")
	for _, tc := range []struct {
		policy string
		body   func(port int) []byte
		want   int
	}{
		{SRTPRequired, func(p int) []byte { return phoneSDP(p, "sendrecv") }, sip.StatusNotAcceptableHere},
		{SRTPRequired, func(p int) []byte { return srtpSDP(p, key) }, sip.StatusOK},
		{SRTPOff, func(p int) []byte { return srtpSDP(p, key) }, sip.StatusNotAcceptableHere},
		{SRTPOptional, func(p int) []byte {
			return []byte(strings.Replace(string(srtpSDP(p, key)), "AES_CM_128_HMAC_SHA1_80", "F8_128_HMAC_SHA1_80", 1))
		}, sip.StatusNotAcceptableHere},
		{SRTPOptional, func(p int) []byte {
			return []byte(strings.Replace(string(srtpSDP(p, key)), "\r\na=sendrecv", "|2^31|1:4\r\na=sendrecv", 1))
		}, sip.StatusNotAcceptableHere},
	} {
		q := newFakeQueue()
		gw := startGateway(t, Config{SRTP: tc.policy}, q)
		phone := newSIPPeer(t, "alice")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := phone.invite(ctx, gw, "100", tc.body(rtpSocket(t).LocalAddr().(*net.UDPAddr).Port))
		cancel()
		if got := status(err); (tc.want == sip.StatusOK && err != nil) || (tc.want != sip.StatusOK && got != tc.want) {
			t.Fatalf("policy %s: %v (%d), want %d", tc.policy, err, got, tc.want)
		}
	}
	if _, err := New(Config{Listen: "127.0.0.1:0", SRTP: "maybe"}); err == nil {
		t.Fatal("an unknown srtp policy was accepted")
	}
}

// sip.trunk.srtp: our INVITE offers RTP/SAVP with a key; a callee answering with SRTP hears us
// encrypted with that key, and one answering in the clear is hung up (the dial fails).
func TestDialSRTP(t *testing.T) {
	media8 := rtpSocket(t)
	trunkKey := mustKey(t, "AES_CM_128_HMAC_SHA1_80")
	var clearAnswer atomic.Bool
	tr := newTrunk(t, func(tr *trunk, req *sip.Request, tx sip.ServerTransaction) {
		dlg, err := tr.cache.ReadInvite(req, tx)
		if err != nil {
			return
		}
		body := srtpSDP(media8.LocalAddr().(*net.UDPAddr).Port, trunkKey)
		if clearAnswer.Load() {
			body = phoneSDP(media8.LocalAddr().(*net.UDPAddr).Port, "sendrecv")
		}
		_ = dlg.RespondSDP(body)
	})
	gw := startGateway(t, Config{Trunk: Trunk{URI: tr.uri(), SRTP: true}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ep, err := gw.Dial(ctx, "5550199", nil)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := ParseSDP((<-tr.invites).Body())
	if err != nil {
		t.Fatal(err)
	}
	o, err := sd.Negotiate(-1)
	if err != nil || o.SRTP == nil || o.SRTP.suite.name != "AES_CM_128_HMAC_SHA1_80" {
		t.Fatalf("our offer's SRTP %+v: %v", o.SRTP, err)
	}
	ours, _ := o.SRTP.context()
	voice := newOpusSource("agent", media.Audio)
	if err := ep.Attach(voice); err != nil {
		t.Fatal(err)
	}
	var heard atomic.Int64
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := media8.ReadFromUDP(buf)
			if err != nil {
				return
			}
			var p rtp.Packet
			if plain, err := ours.DecryptRTP(nil, buf[:n], nil); err == nil && p.Unmarshal(plain) == nil &&
				power(audio.DecodeULaw(nil, p.Payload), 1180, 8000) > 1e6 {
				heard.Add(1)
			}
		}
	}()
	feeding := feedOpus(t, voice, 1180)
	defer close(feeding)
	eventually(t, "the callee decrypts our audio", func() bool { return heard.Load() >= 10 })
	_ = ep.Close(nil)

	clearAnswer.Store(true)
	if ep, err := gw.Dial(ctx, "5550199", nil); err == nil || ep != nil {
		t.Fatalf("an answer in the clear to our SRTP offer was accepted: %v", err)
	}
}
