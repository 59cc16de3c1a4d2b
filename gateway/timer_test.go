package gateway

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// inviteWith calls number at the gateway with a phone's PCMU offer and extra headers; it returns
// the final response (the dialog, when answered, is ACKed).
func (p *sipPeer) inviteWith(ctx context.Context, gw *Gateway, number string, port int, hdrs ...sip.Header) (*sipgo.DialogClientSession, *sip.Response, error) {
	host, gport, _ := net.SplitHostPort(gw.Addr())
	pn, _ := strconv.Atoi(gport)
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: number, Host: host, Port: pn})
	from := sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.dua.ContactHDR.Address.User, Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(&from)
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(phoneSDP(port, "sendrecv"))
	dlg, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{})
	if err != nil {
		if e, ok := err.(*sipgo.ErrDialogResponse); ok {
			return nil, e.Res, nil
		}
		return nil, nil, err
	}
	p.mu.Lock()
	p.dlg = dlg
	p.mu.Unlock()
	return dlg, dlg.InviteResponse, dlg.Ack(ctx)
}

// RFC 3261 8.2.2.3 and RFC 4028: an INVITE requiring an extension we lack (100rel) gets 420 with
// Unsupported; a session interval below 90 s gets 422 with Min-SE; a phone that supports timers
// gets its interval confirmed with itself as the refresher, a re-INVITE renews it, and a session
// left to expire is hung up with BYE.
func TestSessionTimers(t *testing.T) {
	q := newFakeQueue()
	gw := startGateway(t, Config{}, q)
	phone := newSIPPeer(t, "alice")
	media8 := rtpSocket(t)
	port := media8.LocalAddr().(*net.UDPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	_, res, err := phone.inviteWith(ctx, gw, "100", port, sip.NewHeader("Require", "100rel"))
	if err != nil || res == nil || res.StatusCode != sip.StatusBadExtension {
		t.Fatalf("Require: 100rel answered %v, %v; want 420", res, err)
	}
	if h := res.GetHeader("Unsupported"); h == nil || h.Value() != "100rel" {
		t.Fatalf("420 without Unsupported: 100rel: %v", res)
	}
	_, res, err = phone.inviteWith(ctx, gw, "100", port, sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "30"))
	if err != nil || res == nil || res.StatusCode != 422 {
		t.Fatalf("Session-Expires: 30 answered %v, %v; want 422", res, err)
	}
	if h := res.GetHeader("Min-SE"); h == nil || h.Value() != "90" {
		t.Fatalf("422 without Min-SE: 90: %v", res)
	}

	dlg, res, err := phone.inviteWith(ctx, gw, "100", port, sip.NewHeader("Supported", "timer, replaces"), sip.NewHeader("Session-Expires", "1800;refresher=uac"))
	if err != nil || res.StatusCode != sip.StatusOK {
		t.Fatalf("INVITE with a session timer: %v, %v", res, err)
	}
	if se, req := res.GetHeader("Session-Expires"), res.GetHeader("Require"); se == nil || se.Value() != "1800;refresher=uac" || req == nil || req.Value() != "timer" {
		t.Fatalf("200 confirms %v / %v; want Session-Expires: 1800;refresher=uac and Require: timer", se, req)
	}
	leg := (<-q.got).ep.(*Leg)
	if exp := time.Until(time.Unix(0, leg.expires.Load())); exp < 1700*time.Second || exp > 1800*time.Second {
		t.Fatalf("session expires in %v, want about 1800 s", exp)
	}

	// The phone refreshes with a re-INVITE asking 600 s: the timer restarts at 600 s.
	re := sip.NewRequest(sip.INVITE, dlg.InviteResponse.Contact().Address)
	re.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	re.AppendHeader(sip.NewHeader("Supported", "timer"))
	re.AppendHeader(sip.NewHeader("Session-Expires", "600;refresher=uac"))
	re.SetBody(phoneSDP(port, "sendrecv"))
	rres, err := dlg.Do(ctx, re)
	if err != nil || rres.StatusCode != sip.StatusOK {
		t.Fatalf("refresh: %v, %v", rres, err)
	}
	_ = dlg.WriteRequest(sip.NewRequest(sip.ACK, dlg.InviteResponse.Contact().Address))
	if h := rres.GetHeader("Session-Expires"); h == nil || h.Value() != "600;refresher=uac" {
		t.Fatalf("refresh answered Session-Expires %v", h)
	}
	if exp := time.Until(time.Unix(0, leg.expires.Load())); exp < 500*time.Second || exp > 600*time.Second {
		t.Fatalf("after the refresh the session expires in %v, want about 600 s", exp)
	}

	// No refresh comes (the phone vanished): at expiry the leg is hung up.
	leg.expires.Store(time.Now().Add(200 * time.Millisecond).UnixNano())
	select {
	case <-phone.byes:
	case <-ctx.Done():
		t.Fatal("an expired session was not hung up")
	}
	if cause := context.Cause(leg.Context()); cause != ErrSessionExpired {
		t.Fatalf("leg ended with %v, want %v", cause, ErrSessionExpired)
	}
}
