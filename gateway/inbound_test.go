package gateway

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/audio"
)

// Bad input is refused with the status a phone understands and nothing is queued.
func TestInboundRefusals(t *testing.T) {
	q := newFakeQueue()
	restricted := startGateway(t, Config{Numbers: map[string]string{"100": "billing"}}, q)
	open := startGateway(t, Config{}, q)
	walled := startGateway(t, Config{Allow: []string{"10.0.0.0/8"}}, q)
	phone := newSIPPeer(t, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name   string
		gw     *Gateway
		number string
		body   []byte
		want   int
	}{
		{"unknown number", restricted, "200", phoneSDP(4000, "sendrecv"), 404},
		{"source not allowed", walled, "100", phoneSDP(4000, "sendrecv"), 403},
		{"no SDP", open, "100", nil, 488},
		{"no common codec", open, "100", []byte("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 9 111\r\na=rtpmap:9 G722/8000\r\na=rtpmap:111 opus/16000/2\r\n"), 488},
		{"malformed SDP", open, "100", []byte("this is not sdp"), 488},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := phone.invite(ctx, tc.gw, tc.number, tc.body)
			if got := status(err); got != tc.want {
				t.Fatalf("got %v, want status %d", err, tc.want)
			}
		})
	}
	select {
	case got := <-q.got:
		t.Fatalf("a refused call was queued: %+v", got)
	default:
	}
}

// A phone calls in: it is queued as a customer whose endpoint carries its voice as Opus, it hears
// what is attached to it as G.711, its DTMF digits arrive, hold by re-INVITE is answered with the
// mirrored direction (and stops our RTP), and BYE ends the leg with reason hangup.
func TestInboundCall(t *testing.T) {
	q := newFakeQueue()
	gw := startGateway(t, Config{Numbers: map[string]string{"100": "billing", "*": ""}}, q)
	phone := newSIPPeer(t, "alice")
	media8 := rtpSocket(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dlg, err := phone.invite(ctx, gw, "100", phoneSDP(media8.LocalAddr().(*net.UDPAddr).Port, "sendrecv"))
	if err != nil {
		t.Fatal(err)
	}
	answer := string(dlg.InviteResponse.Body())
	if !strings.Contains(answer, "m=audio ") || !strings.Contains(answer, "a=sendrecv") || !strings.Contains(answer, "a=rtpmap:0 PCMU/8000") {
		t.Fatalf("answer:\n%s", answer)
	}
	var got queued
	select {
	case got = <-q.got:
	case <-ctx.Done():
		t.Fatal("not queued")
	}
	if got.user.ID != "tel:alice" || got.user.Role != call.Customer || got.queue != "billing" || got.ep.ID() != "tel:alice" {
		t.Fatalf("queued %+v in %q as %s", got.user, got.queue, got.ep.ID())
	}
	leg := got.ep.(*Leg)
	if c := leg.Caps(); c.Video || !c.Audio {
		t.Fatalf("caps %+v", c)
	}
	if err := leg.Attach(newOpusSource("cam", media.Video)); !errors.Is(err, ErrUnsupportedSource) {
		t.Fatalf("video attach: %v", err)
	}
	var digits atomic.Value
	digits.Store("")
	leg.OnDigit(func(r rune) { digits.Store(digits.Load().(string) + string(r)) })

	// The phone talks: a 700 Hz tone in PCMU reaches the leg's source as Opus.
	sink, toneFrames := opusToneSink(700)
	_ = leg.Sources()[0].AddSink(sink)
	gwRTP := net.UDPAddrFromAddrPort(leg.remoteOfLocal())
	stop := phoneTone(media8, gwRTP, 700, ptPCMU, func(i int, pkt []byte) []byte {
		if i == 5 { // DTMF '5' (RFC 4733), end packet sent three times
			_, _ = media8.WriteToUDP(pkt, gwRTP)
			for j, end := range []bool{false, true, true, true} {
				ev := []byte{5, 10, 0, byte(160 * (j + 1))}
				if end {
					ev[1] |= 0x80
				}
				b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SSRC: 1, SequenceNumber: uint16(1000 + j), Timestamp: 777}, Payload: ev}).Marshal()
				_, _ = media8.WriteToUDP(b, gwRTP)
			}
			return nil
		}
		return pkt
	})
	defer stop()
	eventually(t, "the phone's tone as Opus", func() bool { return toneFrames.Load() >= 10 })
	eventually(t, "DTMF 5", func() bool { return digits.Load().(string) == "5" })

	// The room attaches a voice: the phone hears it as PCMU.
	voice := newOpusSource("agent-mic", media.Audio)
	if err := leg.Attach(voice); err != nil {
		t.Fatal(err)
	}
	heard := hearsPCMU(media8, 1180)
	feeding := feedOpus(t, voice, 1180)
	eventually(t, "the attached voice at the phone", func() bool { return heard.Load() >= 10 })

	// Hold: the phone offers sendonly; we answer recvonly and stop sending.
	res, err := reinvite(ctx, dlg, phoneSDP(media8.LocalAddr().(*net.UDPAddr).Port, "sendonly"))
	if err != nil || res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=recvonly") {
		t.Fatalf("hold answer %v: %v", res, err)
	}
	time.Sleep(100 * time.Millisecond)
	before := heard.Load()
	time.Sleep(300 * time.Millisecond)
	if n := heard.Load() - before; n > 0 {
		t.Fatalf("the phone on hold still got %d packets", n)
	}
	res, err = reinvite(ctx, dlg, phoneSDP(media8.LocalAddr().(*net.UDPAddr).Port, "sendrecv"))
	if err != nil || res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=sendrecv") {
		t.Fatalf("resume answer %v: %v", res, err)
	}
	eventually(t, "the voice again after resume", func() bool { return heard.Load() >= before+10 })
	close(feeding)

	// The phone hangs up.
	byeCtx, byeCancel := context.WithTimeout(ctx, 5*time.Second)
	defer byeCancel()
	if err := dlg.Bye(byeCtx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-leg.Context().Done():
	case <-ctx.Done():
		t.Fatal("leg did not end on BYE")
	}
	if cause := context.Cause(leg.Context()); !errors.Is(cause, call.ReasonHangup) {
		t.Fatalf("cause %v", cause)
	}
	_ = leg.Close(call.ReasonHangup) // the call closes it afterwards: no second BYE
	select {
	case <-phone.byes:
		t.Fatal("the gateway sent BYE for a leg the phone hung up")
	case <-time.After(200 * time.Millisecond):
	}
}

// The call ends the leg: the phone gets BYE.
func TestInboundCloseSendsBye(t *testing.T) {
	q := newFakeQueue()
	gw := startGateway(t, Config{}, q)
	phone := newSIPPeer(t, "bob")
	media8 := rtpSocket(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := phone.invite(ctx, gw, "555", phoneSDP(media8.LocalAddr().(*net.UDPAddr).Port, "sendrecv")); err != nil {
		t.Fatal(err)
	}
	got := <-q.got
	if got.queue != "" {
		t.Fatalf("queue %q, want the default", got.queue)
	}
	_ = got.ep.Close(call.ReasonEndedByAgent)
	select {
	case <-phone.byes:
	case <-ctx.Done():
		t.Fatal("no BYE")
	}
}

// A phone that stops sending RTP is hung up after the timeout.
func TestRTPTimeout(t *testing.T) {
	q := newFakeQueue()
	gw := startGateway(t, Config{RTPTimeout: 300 * time.Millisecond}, q)
	phone := newSIPPeer(t, "carol")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := phone.invite(ctx, gw, "1", phoneSDP(rtpSocket(t).LocalAddr().(*net.UDPAddr).Port, "sendrecv")); err != nil {
		t.Fatal(err)
	}
	leg := (<-q.got).ep
	select {
	case <-leg.Context().Done():
	case <-ctx.Done():
		t.Fatal("no timeout")
	}
	if !errors.Is(context.Cause(leg.Context()), ErrRTPTimeout) {
		t.Fatalf("cause %v", context.Cause(leg.Context()))
	}
	select {
	case <-phone.byes:
	case <-ctx.Done():
		t.Fatal("no BYE")
	}
}

// remoteOfLocal is where the leg receives RTP (its socket), for tests.
func (l *Leg) remoteOfLocal() netip.AddrPort { return l.conn.LocalAddr() }

// feedOpus writes a 20 ms Opus tone into src until the returned channel is closed.
func feedOpus(t *testing.T, src *opusSource, hz float64) chan struct{} {
	enc, err := audio.NewOpusEncoder(audio.OpusConfig{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		pcm := make([]int16, frame48)
		h := rtp.Header{Version: 2, PayloadType: 111, SSRC: 9}
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-tk.C:
			}
			tone(pcm, hz, 48000, i*frame48)
			p, err := enc.Encode(pcm, nil)
			if err != nil {
				return
			}
			h.SequenceNumber, h.Timestamp = uint16(i), uint32(i*frame48)
			src.fan.Write(&h, p)
		}
	}()
	return done
}

// readRTP calls f with each packet read from c until it is closed.
func readRTP(c *net.UDPConn, f func(*rtp.Header, []byte)) {
	buf := make([]byte, 1500)
	for {
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			return
		}
		var p rtp.Packet
		if p.Unmarshal(buf[:n]) == nil {
			f(&p.Header, p.Payload)
		}
	}
}

// Two calls from one number (or two withheld numbers) at once are two parties: the second gets an
// id of its own, with the number as its name.
func TestInboundSameNumberTwice(t *testing.T) {
	q := newFakeQueue()
	gw := startGateway(t, Config{}, q)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ids []string
	for range 2 {
		phone := newSIPPeer(t, "anonymous")
		if _, err := phone.invite(ctx, gw, "1", phoneSDP(rtpSocket(t).LocalAddr().(*net.UDPAddr).Port, "sendrecv")); err != nil {
			t.Fatal(err)
		}
		got := <-q.got
		if got.user.Name != "anonymous" || string(got.ep.ID()) != got.user.ID {
			t.Fatalf("queued %+v as %s", got.user, got.ep.ID())
		}
		ids = append(ids, got.user.ID)
	}
	if ids[0] != "tel:anonymous" || !strings.HasPrefix(ids[1], "tel:anonymous~") {
		t.Fatalf("party ids %v", ids)
	}
}
