package gateway

import (
	"bufio"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/contactcenter/vcc/call"
)

// onInvite answers a new call, or a re-INVITE within one of our dialogs.
func (g *Gateway) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil {
		if _, tagged := to.Params.Get("tag"); tagged {
			g.onReinvite(req, tx)
			return
		}
	}
	log := g.log.With("sip_call", callIDOf(req), "from", req.Source())
	g.mu.Lock()
	closing := g.closing
	g.mu.Unlock()
	q := g.queuer.Load()
	if closing || q == nil {
		respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	if !g.allowed(req) {
		log.Warn("inbound call refused: source not allowed")
		respond(tx, req, sip.StatusForbidden, "Forbidden")
		return
	}
	if g.auth != nil {
		h := req.GetHeader("Authorization")
		if h == nil {
			res := sip.NewResponseFromRequest(req, sip.StatusUnauthorized, "Unauthorized", nil)
			res.AppendHeader(sip.NewHeader("WWW-Authenticate", g.auth.challenge()))
			_ = tx.Respond(res)
			return
		}
		if _, ok := g.auth.verify(req.Method.String(), h.Value()); !ok {
			log.Warn("inbound call refused: digest authentication failed")
			res := sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil)
			_ = tx.Respond(res)
			return
		}
	}
	secs, ok := checkExtensions(req, tx) // 420 or 422 sent
	if !ok {
		log.Info("inbound call refused: SIP extension", "require", unsupported(req))
		return
	}
	number := req.Recipient.User
	queue, ok := g.route(number)
	if !ok {
		log.Info("inbound call refused: unknown number", "number", number)
		respond(tx, req, sip.StatusNotFound, "Not Found")
		return
	}
	sd, err := ParseSDP(req.Body())
	var offer Offer
	if err == nil {
		offer, err = sd.Negotiate(-1)
	}
	if err == nil {
		err = g.srtpAllowed(offer)
	}
	if err != nil {
		log.Info("inbound call refused", "err", err)
		res := sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		res.AppendHeader(sip.NewHeader("Warning", `304 vcc "`+g.mediaWarning()+`"`))
		_ = tx.Respond(res)
		return
	}
	caller := "anonymous"
	if f := req.From(); f != nil {
		switch {
		case f.Address.User != "":
			caller = f.Address.User
		case f.Address.Host != "":
			caller = f.Address.Host
		}
	}
	dua := g.dialogUA(req.Transport())
	dlg, err := dua.ReadInvite(req, tx)
	if err != nil {
		log.Info("inbound call refused", "err", err)
		respond(tx, req, sip.StatusBadRequest, "Bad Request")
		return
	}
	leg, err := g.newLeg(call.PartyID("tel:"+caller), callIDOf(req), offer, log.With("party", "tel:"+caller))
	if err != nil {
		log.Error("inbound call: no media", "err", err)
		_ = dlg.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
		return
	}
	leg.srv, leg.dlg, leg.contact = dlg, dlg, dua.ContactHDR
	if !g.register(leg.callID, leg) {
		leg.terminate(call.ReasonShutdown, false)
		_ = dlg.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
		return
	}
	// 200 with our SDP; RespondSDP returns once the phone's ACK arrives.
	answer := leg.answer(sd)
	if err := dlg.Respond(sip.StatusOK, "OK", answer, append(timerHeaders(secs), sip.NewHeader("Content-Type", "application/sdp"))...); err != nil {
		log.Info("inbound call not established", "err", err)
		leg.terminate(call.ReasonDisconnected, false)
		return
	}
	leg.refreshed(secs)
	leg.start()
	log.Info("inbound call answered", "number", number, "queue", queue, "codec", codecName(offer.Law))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := call.UserRef{ID: "tel:" + caller, Name: caller, Role: call.Customer}
	id, err := q.Enqueue(ctx, u, queue, leg, legNotifier{leg})
	if errors.Is(err, call.ErrInvalidState) {
		// The same number is in a call already (two lines of one company, withheld numbers):
		// this call's party gets an id of its own; agents still see the number as its name.
		u.ID += "~" + randHex(3)
		leg.setID(call.PartyID(u.ID))
		id, err = q.Enqueue(ctx, u, queue, leg, legNotifier{leg})
	}
	if err != nil {
		log.Warn("inbound call could not be queued", "err", err)
		leg.terminate(err, true)
		return
	}
	leg.log.Info("phone queued", "queue", queue, "call", id)
}

// onReinvite answers a re-INVITE: hold (a=sendonly, a=inactive), resume, or a session refresh.
func (g *Gateway) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	l := g.leg(req)
	if l == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	if l.srv != nil {
		if err := l.srv.ReadRequest(req, tx); err != nil {
			respond(tx, req, sip.StatusInternalServerError, "Server Internal Error")
			return
		}
	}
	secs, ok := checkExtensions(req, tx)
	if !ok {
		return
	}
	body, code := l.reoffer(req.Body())
	if code != sip.StatusOK {
		respond(tx, req, code, "Not Acceptable Here")
		return
	}
	res := sip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(sip.HeaderClone(&l.contact))
	l.respondRefreshed(res, tx, secs)
}

// respondRefreshed sends the 2xx of a session refresh (re-INVITE or UPDATE) and restarts the
// session timer it negotiated.
func (l *Leg) respondRefreshed(res *sip.Response, tx sip.ServerTransaction, secs int) {
	for _, h := range timerHeaders(secs) {
		res.AppendHeader(h)
	}
	l.refreshed(secs)
	_ = tx.Respond(res)
}

// onUpdate is UPDATE (RFC 3311): a session refresh, or a new offer like a re-INVITE's.
func (g *Gateway) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	l := g.leg(req)
	if l == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	secs, ok := checkExtensions(req, tx)
	if !ok {
		return
	}
	if len(req.Body()) == 0 {
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		res.AppendHeader(sip.HeaderClone(&l.contact))
		l.respondRefreshed(res, tx, secs)
		return
	}
	body, code := l.reoffer(req.Body())
	if code != sip.StatusOK {
		respond(tx, req, code, "Not Acceptable Here")
		return
	}
	res := sip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(sip.HeaderClone(&l.contact))
	l.respondRefreshed(res, tx, secs)
}

func (g *Gateway) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if l := g.leg(req); l != nil && l.srv != nil {
		_ = l.srv.ReadAck(req, tx) // the ACK of a re-INVITE changes nothing
	}
}

// onBye ends the leg the phone hung up.
func (g *Gateway) onBye(req *sip.Request, tx sip.ServerTransaction) {
	l := g.leg(req)
	if l == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	var err error
	if l.srv != nil {
		err = l.srv.ReadBye(req, tx)
	} else {
		err = l.cli.ReadBye(req, tx)
	}
	if err != nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	l.log.Info("phone hung up")
	l.terminate(call.ReasonHangup, false)
}

// onInfo takes SIP INFO DTMF (application/dtmf-relay), which some phones send instead of RFC 4733.
func (g *Gateway) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	l := g.leg(req)
	if l == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	if ct := req.ContentType(); ct != nil && strings.EqualFold(ct.Value(), "application/dtmf-relay") {
		sc := bufio.NewScanner(strings.NewReader(string(req.Body())))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				if v = strings.TrimSpace(v); len(v) == 1 && strings.Contains(digits, strings.ToUpper(v)) {
					l.digit(rune(strings.ToUpper(v)[0]))
				}
			}
		}
	}
	respond(tx, req, sip.StatusOK, "OK")
}

func callIDOf(req *sip.Request) string {
	if id := req.CallID(); id != nil {
		return id.Value()
	}
	return ""
}

// codecName names a leg's codec (ptPCMU, ptPCMA or codecOpus) as SDP does.
func codecName(law uint8) string {
	switch law {
	case ptPCMA:
		return "PCMA"
	case codecOpus:
		return "opus"
	}
	return "PCMU"
}

// legNotifier receives the call's events for a phone: a phone has no screen, so they are logged.
type legNotifier struct{ l *Leg }

func (n legNotifier) Notify(e call.Event) {
	switch e := e.(type) {
	case call.QueuePosition:
		n.l.log.Debug("phone queue position", "position", e.Position)
	case call.CallEnded:
		n.l.log.Debug("phone's call ended", "reason", e.Reason)
	}
}
