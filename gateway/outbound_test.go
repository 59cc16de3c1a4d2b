package gateway

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/audio"
)

// trunk is a SIP peer that answers INVITEs the way a test says.
type trunk struct {
	*sipPeer
	cache   *sipgo.DialogServerCache
	invites chan *sip.Request
	cancels chan struct{}
}

func newTrunk(t *testing.T, answer func(tr *trunk, req *sip.Request, tx sip.ServerTransaction)) *trunk {
	tr := &trunk{invites: make(chan *sip.Request, 4), cancels: make(chan struct{}, 4)}
	tr.sipPeer = newSIPPeer(t, "trunk", func(p *sipPeer) {
		tr.cache = sipgo.NewDialogServerCache(p.cli, p.dua.ContactHDR)
		p.srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
			tr.invites <- req
			tx.OnCancel(func(*sip.Request) { tr.cancels <- struct{}{} })
			answer(tr, req, tx)
		})
		p.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = tr.cache.ReadAck(req, tx) })
		p.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
			_ = tr.cache.ReadBye(req, tx)
			p.byes <- struct{}{}
		})
	})
	return tr
}

func (tr *trunk) uri() string { return "sip:127.0.0.1:" + strconv.Itoa(tr.port) }

func TestDialOutcomes(t *testing.T) {
	busy := newTrunk(t, func(_ *trunk, req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
	})
	down := newTrunk(t, func(_ *trunk, req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
	})
	ringing := newTrunk(t, func(_ *trunk, req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 180, "Ringing", nil))
		<-tx.Done() // until CANCEL (487) or the test ends
	})
	for _, tc := range []struct {
		name    string
		tr      *trunk
		timeout time.Duration
		want    string
		status  int
	}{
		{"busy", busy, 5 * time.Second, "busy (486)", 486},
		{"trunk down", down, 5 * time.Second, "failed (503)", 503},
		{"nobody answers", ringing, 300 * time.Millisecond, "no_answer", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := startGateway(t, Config{Trunk: Trunk{URI: tc.tr.uri(), CallerID: "4000"}}, nil)
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			ep, err := gw.Dial(ctx, "5551234", nil)
			var de *DialError
			if ep != nil || !errors.As(err, &de) || err.Error() != tc.want || de.Status != tc.status || !errors.Is(err, ErrDialFailed) {
				t.Fatalf("got %v, %v; want %q", ep, err, tc.want)
			}
			inv := <-tc.tr.invites
			if inv.Recipient.User != "5551234" || inv.From().Address.User != "4000" {
				t.Fatalf("INVITE %s from %s", inv.Recipient.String(), inv.From().Address.String())
			}
		})
	}
	if len(ringing.cancels) != 1 {
		t.Fatalf("%d CANCELs reached the ringing trunk, want 1", len(ringing.cancels))
	}
}

// The agent gives up while the number rings: the trunk gets CANCEL.
func TestDialCancel(t *testing.T) {
	tr := newTrunk(t, func(_ *trunk, req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 180, "Ringing", nil))
		<-tx.Done()
	})
	gw := startGateway(t, Config{Trunk: Trunk{URI: tr.uri()}}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	rang := make(chan struct{})
	go func() {
		_, err := gw.Dial(ctx, "100", func() { close(rang) })
		errc <- err
	}()
	<-tr.invites
	select {
	case <-rang: // the 180 arrived: the agent sees the number ringing
	case err := <-errc:
		t.Fatalf("dial ended before ringing: %v", err)
	}
	cancel()
	select {
	case <-tr.cancels:
	case <-time.After(5 * time.Second):
		t.Fatal("no CANCEL")
	}
	if err := <-errc; err == nil || !strings.HasPrefix(err.Error(), "cancelled") {
		t.Fatalf("got %v, want cancelled", err)
	}
}

// An answered number is a leg: audio both ways in the negotiated law, BYE when the call closes it.
func TestDialAnswered(t *testing.T) {
	media8 := rtpSocket(t)
	tr := newTrunk(t, func(tr *trunk, req *sip.Request, tx sip.ServerTransaction) {
		dlg, err := tr.cache.ReadInvite(req, tx)
		if err != nil {
			return
		}
		_ = dlg.Respond(180, "Ringing", nil)
		sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
			strconv.Itoa(media8.LocalAddr().(*net.UDPAddr).Port) + " RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
		_ = dlg.RespondSDP([]byte(sdp))
	})
	gw := startGateway(t, Config{Trunk: Trunk{URI: tr.uri()}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rang atomic.Int32
	ep, err := gw.Dial(ctx, "+15551234", func() { rang.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	// The 180 comes right before the 200 here, and sipgo may pass the 200 alone: at most once.
	// (TestDialCancel checks that a number left ringing is reported.)
	if n := rang.Load(); n > 1 {
		t.Fatalf("ringing reported %d times, want at most once (one 180)", n)
	}
	if ep.ID() != "tel:+15551234" {
		t.Fatalf("id %s", ep.ID())
	}
	offer := string((<-tr.invites).Body())
	if !strings.Contains(offer, "m=audio ") || !strings.Contains(offer, " RTP/AVP 111 0 8 101 110\r\n") ||
		!strings.Contains(offer, "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n") {
		t.Fatalf("offer:\n%s", offer)
	}
	voice := newOpusSource("mic", media.Audio)
	if err := ep.Attach(voice); err != nil {
		t.Fatal(err)
	}
	var heard atomic.Int64
	var from atomic.Pointer[net.UDPAddr]
	go func() {
		buf := make([]byte, 1500)
		for {
			n, a, err := media8.ReadFromUDP(buf)
			if err != nil {
				return
			}
			from.Store(a)
			var p rtp.Packet
			if p.Unmarshal(buf[:n]) == nil && p.PayloadType == 8 && power(audio.DecodeALaw(nil, p.Payload), 1180, 8000) > 1e6 {
				heard.Add(1)
			}
		}
	}()
	feeding := feedOpus(t, voice, 1180)
	defer close(feeding)
	eventually(t, "the voice at the callee in PCMA", func() bool { return heard.Load() >= 10 })
	// The callee's packets come back to the port ours came from (symmetric RTP).
	var got atomic.Int64
	_ = ep.Sources()[0].AddSink(&counter{fn: func(*rtp.Header, []byte) { got.Add(1) }})
	pcm := make([]int16, frame8)
	for i := range 20 {
		tone(pcm, 700, 8000, i*frame8)
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 8, SSRC: 3, SequenceNumber: uint16(i), Timestamp: uint32(i * frame8)}, Payload: audio.EncodeALaw(nil, pcm)}).Marshal()
		_, _ = media8.WriteToUDP(b, from.Load())
		time.Sleep(20 * time.Millisecond)
	}
	eventually(t, "the callee's voice from the leg", func() bool { return got.Load() >= 5 })
	_ = ep.Close(call.ReasonEndedByAgent)
	select {
	case <-tr.byes:
	case <-ctx.Done():
		t.Fatal("no BYE at the callee")
	}
}
