package gateway

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Session timers (RFC 4028), as the side that answers: carriers and SBCs ask for them so that a
// call whose far end vanished without a BYE is cleared. When a phone's INVITE carries
// Session-Expires and says it supports "timer", the 200 confirms the interval with the phone as
// the refresher (refresher=uac, Require: timer); each re-INVITE or UPDATE renews it, and a leg not
// refreshed in time is hung up (BYE). Without "timer" support on the phone's side no timer runs:
// we never send refreshes ourselves.

// minSessionExpires is our Min-SE (RFC 4028 4: at least 90 s).
const minSessionExpires = 90

// ErrSessionExpired ends a leg whose phone stopped refreshing the session.
var ErrSessionExpired = errors.New("session_expired")

// supportedOptions are the SIP option tags we implement (for Require, RFC 3261 8.2.2.3).
var supportedOptions = map[string]bool{"timer": true}

// unsupported lists the option tags req requires that we do not support (100rel, ...).
func unsupported(req *sip.Request) []string {
	var out []string
	for _, h := range req.GetHeaders("Require") {
		for tag := range strings.SplitSeq(h.Value(), ",") {
			if tag = strings.ToLower(strings.TrimSpace(tag)); tag != "" && !supportedOptions[tag] {
				out = append(out, tag)
			}
		}
	}
	return out
}

// sessionInterval reads req's Session-Expires: the interval in seconds (0: no session timer for
// this dialog), and whether it is below our minimum (answer 422 with Min-SE).
func sessionInterval(req *sip.Request) (secs int, tooSmall bool) {
	h := req.GetHeader("Session-Expires")
	if h == nil {
		h = req.GetHeader("x") // the compact form
	}
	if h == nil {
		return 0, false
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0, false // malformed: treated as absent
	}
	if n < minSessionExpires {
		return 0, true
	}
	if !hasOption(req, "timer") {
		return 0, false // the phone cannot refresh: no timer (we would have to refresh it ourselves)
	}
	return n, false
}

func hasOption(req *sip.Request, tag string) bool {
	for _, name := range []string{"Supported", "k"} {
		for _, h := range req.GetHeaders(name) {
			for t := range strings.SplitSeq(h.Value(), ",") {
				if strings.EqualFold(strings.TrimSpace(t), tag) {
					return true
				}
			}
		}
	}
	return false
}

// checkExtensions answers req with 420 (an unsupported Require) or 422 (a session interval below
// Min-SE) and returns false; else it returns the session interval (0: none).
func checkExtensions(req *sip.Request, tx sip.ServerTransaction) (int, bool) {
	if tags := unsupported(req); len(tags) > 0 {
		res := sip.NewResponseFromRequest(req, sip.StatusBadExtension, "Bad Extension", nil)
		res.AppendHeader(sip.NewHeader("Unsupported", strings.Join(tags, ", ")))
		_ = tx.Respond(res)
		return 0, false
	}
	secs, tooSmall := sessionInterval(req)
	if tooSmall {
		res := sip.NewResponseFromRequest(req, 422, "Session Interval Too Small", nil)
		res.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(minSessionExpires)))
		_ = tx.Respond(res)
		return 0, false
	}
	return secs, true
}

// timerHeaders confirm a session interval in a 2xx (none when secs is 0).
func timerHeaders(secs int) []sip.Header {
	if secs == 0 {
		return nil
	}
	return []sip.Header{
		sip.NewHeader("Session-Expires", strconv.Itoa(secs)+";refresher=uac"),
		sip.NewHeader("Require", "timer"),
	}
}

// refreshed (re)starts the leg's session timer: secs from now, or none.
func (l *Leg) refreshed(secs int) {
	if secs == 0 {
		l.expires.Store(0)
		return
	}
	l.expires.Store(time.Now().Add(time.Duration(secs) * time.Second).UnixNano())
}
