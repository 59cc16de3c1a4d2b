package gateway

import (
	"context"
	"errors"
	"fmt"

	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/contactcenter/vcc/call"
)

var _ call.Dialer = (*Gateway)(nil)

// Dial calls number through the trunk and returns the leg once the callee answers (call.Dialer).
// The offer lists Opus first (a callee that takes it needs no transcoding with the rooms), then
// PCMU and PCMA, and telephone-event at 8000 and 48000 Hz; the leg speaks whichever the callee
// answers. ringing (if not nil) is called once, at the first 180 or 183. A call that does not
// connect returns a *DialError carrying the SIP status ("busy (486)", "failed (503)"). Cancelling
// ctx while it rings sends CANCEL; ctx's deadline is "no_answer". The leg's life does not depend
// on ctx once answered.
func (g *Gateway) Dial(ctx context.Context, number string, ringing func()) (call.Endpoint, error) {
	if g.trunk == nil {
		return nil, &DialError{Outcome: "failed", Err: ErrNoTrunk}
	}
	if !validNumber(number) {
		return nil, &DialError{Outcome: "failed", Err: fmt.Errorf("gateway: number %q: digits, letters and +*.-_ only", number)}
	}
	g.mu.Lock()
	closing := g.closing
	g.mu.Unlock()
	if closing {
		return nil, &DialError{Outcome: "failed", Err: ErrClosed}
	}
	conn, err := g.ports.listen()
	if err != nil {
		return nil, &DialError{Outcome: "failed", Err: err}
	}
	local := localSDP{
		addr: g.rtpIP, port: conn.Port(), session: randUint64(), version: 1,
		codecs: []sdpCodec{{codecOpus, ptOpus}, {ptPCMU, ptPCMU}, {ptPCMA, ptPCMA}},
		events: []sdpEvent{{ptEvent, 8000}, {ptEvent48, 48000}}, dir: SendRecv,
	}
	if g.cfg.Trunk.SRTP {
		s, _ := suiteNamed("AES_CM_128_HMAC_SHA1_80") // what every SRTP trunk speaks
		k, err := newSDESKey(1, s)
		if err != nil {
			_ = conn.Close()
			return nil, &DialError{Outcome: "failed", Err: err}
		}
		local.crypto = &k
	}
	callID := randHex(12) + "@" + g.host
	log := g.log.With("sip_call", callID, "party", "tel:"+number)

	uri := *g.trunk.Clone()
	uri.User = number
	req := sip.NewRequest(sip.INVITE, uri)
	transport := "udp"
	if t, ok := uri.UriParams.Get("transport"); ok && t != "" {
		transport = strings.ToLower(t)
	}
	req.SetTransport(strings.ToUpper(transport))
	from := sip.FromHeader{DisplayName: g.cfg.Trunk.CallerID, Address: sip.Uri{Scheme: "sip", User: g.cfg.Trunk.CallerID, Host: g.host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	to := sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: number, Host: uri.Host, Port: uri.Port}}
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&from)
	req.AppendHeader(&to)
	req.AppendHeader(&cid)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(sip.NewHeader("User-Agent", g.cfg.UserAgent))
	req.SetBody(local.marshal(nil))

	dua := g.dialogUA(transport)
	if dua == nil {
		_ = conn.Close()
		return nil, &DialError{Outcome: "failed", Err: fmt.Errorf("%w: transport %s is not enabled", ErrConfig, transport)}
	}
	log.Info("dialling", "trunk", g.cfg.Trunk.URI)
	dlg, err := dua.WriteInvite(ctx, req)
	if err != nil {
		_ = conn.Close()
		return nil, dialError(ctx, err)
	}
	alerted := false
	onResponse := func(res *sip.Response) error {
		if (res.StatusCode == sip.StatusRinging || res.StatusCode == sip.StatusSessionInProgress) && !alerted {
			alerted = true
			log.Info("callee ringing", "status", res.StatusCode)
			if ringing != nil {
				ringing()
			}
		}
		return nil
	}
	err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: onResponse, Username: g.cfg.Trunk.Username, Password: g.cfg.Trunk.Password})
	if err != nil {
		_ = dlg.Close()
		_ = conn.Close()
		derr := dialError(ctx, err)
		log.Info("dial failed", "outcome", derr.Error(), "err", err)
		return nil, derr
	}
	sd, err := ParseSDP(dlg.InviteResponse.Body())
	var o Offer
	if err == nil {
		o, err = sd.Negotiate(-1)
	}
	if err == nil && o.PT != offeredPT(o.Law) {
		err = fmt.Errorf("%w: the answer moved %s to payload type %d", ErrNoCodec, codecName(o.Law), o.PT)
	}
	if err == nil && (o.SRTP == nil) != (local.crypto == nil) {
		err = fmt.Errorf("%w: we offered SRTP %v, the answer has it %v", ErrNoCodec, local.crypto != nil, o.SRTP != nil)
	}
	if err == nil && o.SRTP != nil && (o.SRTP.suite.name != local.crypto.suite.name || o.SRTP.tag != local.crypto.tag) {
		err = fmt.Errorf("%w: the answer's SRTP %d %s is not what we offered", ErrNoCodec, o.SRTP.tag, o.SRTP.suite.name)
	}
	actx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if aerr := dlg.Ack(actx); aerr != nil && err == nil {
		err = aerr
	}
	if err != nil {
		log.Info("answered call unusable; hanging up", "err", err)
		_ = dlg.Bye(actx)
		_ = conn.Close()
		return nil, &DialError{Outcome: "failed", Status: sip.StatusNotAcceptableHere, Err: err}
	}
	local.codecs = []sdpCodec{{o.Law, o.PT}}
	local.events = eventsOf(o)
	leg, err := g.newLegOn(call.PartyID("tel:"+number), callID, conn, o, local, log)
	if err != nil {
		_ = dlg.Bye(actx)
		_ = conn.Close()
		return nil, &DialError{Outcome: "failed", Err: err}
	}
	leg.cli, leg.dlg, leg.contact = dlg, dlg, dua.ContactHDR
	if !g.register(callID, leg) {
		leg.terminate(call.ReasonShutdown, true)
		return nil, &DialError{Outcome: "failed", Err: ErrClosed}
	}
	leg.start()
	log.Info("callee answered", "codec", codecName(o.Law))
	return leg, nil
}

// offeredPT is the payload type our offer gives codec.
func offeredPT(codec uint8) uint8 {
	if codec == codecOpus {
		return ptOpus
	}
	return codec
}

// dialError turns what WaitAnswer returned into the outcome the call shows.
func dialError(ctx context.Context, err error) *DialError {
	var res *sipgo.ErrDialogResponse
	if errors.As(err, &res) && res.Res != nil {
		return &DialError{Outcome: outcome(res.Res.StatusCode), Status: res.Res.StatusCode, Err: err}
	}
	var res2 sipgo.ErrDialogResponse
	if errors.As(err, &res2) && res2.Res != nil {
		return &DialError{Outcome: outcome(res2.Res.StatusCode), Status: res2.Res.StatusCode, Err: err}
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &DialError{Outcome: "no_answer", Err: err}
	case ctx.Err() != nil:
		return &DialError{Outcome: "cancelled", Err: err}
	}
	return &DialError{Outcome: "failed", Err: err}
}

// validNumber keeps a dialled number to what a SIP URI user part holds without escaping.
func validNumber(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for _, r := range n {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case strings.ContainsRune("+*.-_", r):
		default:
			return false
		}
	}
	return true
}
