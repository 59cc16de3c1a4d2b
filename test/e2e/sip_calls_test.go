package e2e

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/vcc/cmd/app"
)

// A phone keys a digit (the shipped uac_pcap sends RFC 4733 DTMF "1" after its speech): the agent
// is told, as a dtmf event, while the call goes on.
func TestSIPDigitsReachTheAgent(t *testing.T) {
	needSipp(t)
	srv := startServer(t, withSIP(""))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	agent := newParty(t, ctx, srv, "user=agent1", 1)
	if err := agent.c.Request(ctx, "agent_state", map[string]string{"state": "available"}); err != nil {
		t.Fatal(err)
	}
	phone := startSipp(t, ctx, freeUDPPort(t), "-sn", "uac_pcap", "-s", "100", srv.SIPAddr)
	m, err := agent.c.WaitFor(ctx, "call_offered", nil)
	if err != nil {
		t.Fatal(err)
	}
	id := callID(m)
	if err := agent.c.Request(ctx, "accept", map[string]string{"call_id": id}); err != nil {
		t.Fatal(err)
	}
	st := waitState(t, ctx, agent.c, "connected to the phone", func(st map[string]any) bool { return st["state"] == "connected" })
	for _, p := range st["parties"].([]any) {
		if p := p.(map[string]any); p["id"] == "tel:sipp" && (p["phone"] != true || p["video"] == true) {
			t.Fatalf("the phone customer is shown as %v, want a phone without video", p)
		}
	}
	d, err := agent.c.WaitFor(ctx, "dtmf", nil)
	if err != nil {
		t.Fatal(err)
	}
	var ev struct{ CallID, From, Digit string }
	_ = json.Unmarshal(d.Data, &ev)
	if ev.Digit != "1" || ev.From != "tel:sipp" {
		t.Fatalf("dtmf event %s, want digit 1 from tel:sipp", d.Data)
	}
	// Digits keyed by callers are not stored (card numbers): the record has nothing of them.
	for _, r := range timeline(t, srv, id) {
		if strings.Contains(r.Type, "dtmf") || strings.Contains(r.Type, "digit") {
			t.Errorf("the record keeps %s %v", r.Type, r.Data)
		}
	}
	phone.wait(t, ctx, "phone call")
}

// R17 to a number: the agent hands the customer to an external number at once and goes to
// wrap-up; the number answers (sipp, echoing) and the customer hears their own voice come back
// through the phone: joined with the number, no agent left.
func TestSIPBlindTransferToNumber(t *testing.T) { // R17
	needSipp(t)
	trunkPort := freeUDPPort(t)
	srv := startServer(t, withSIP("sip:127.0.0.1:"+strconv.Itoa(trunkPort)))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	number := startSipp(t, ctx, trunkPort, "-sf", scenario("uas_echo.xml"), "-rtp_echo")
	cust := newParty(t, ctx, srv, "role=customer&name=Wanda", 0)
	agent := newParty(t, ctx, srv, "user=agent1", 1)
	connectCall(t, ctx, cust.c, agent.c)
	if err := agent.c.Request(ctx, "transfer", map[string]string{"kind": "number", "target": "5550123"}); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.c.WaitFor(ctx, "wrapup_started", nil); err != nil { // R17: released at once
		t.Fatal(err)
	}
	waitState(t, ctx, cust.c, "joined with the number", func(st map[string]any) bool {
		return st["state"] == "connected" && partyAs(st, "tel:5550123") == "participant" && partyAs(st, "agent1") == ""
	})
	waitHeard(t, ctx, "customer hears their voice echoed by the number", cust, cust, 25)
	if err := cust.c.Request(ctx, "hangup", struct{}{}); err != nil {
		t.Fatal(err)
	}
	number.wait(t, ctx, "the number is hung up")
}

// A gateway configured with digest users challenges a caller (401); sipp answers with its
// credentials and the call is queued and offered to the agent. Without the right password it would
// gets 403.
func TestSIPDigestAuthentication(t *testing.T) {
	needSipp(t)
	srv := startServer(t, withSIP(""), func(c *app.Config) {
		c.SIP.Inbound.Auth.Realm = "cc"
		c.SIP.Inbound.Auth.Users = map[string]string{"pbx": "s3cret"}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	agent := newParty(t, ctx, srv, "user=agent1", 1)
	if err := agent.c.Request(ctx, "agent_state", map[string]string{"state": "available"}); err != nil {
		t.Fatal(err)
	}
	phone := startSipp(t, ctx, freeUDPPort(t), "-sf", scenario("uac_auth.xml"), "-s", "100", "-au", "pbx", "-ap", "s3cret", srv.SIPAddr)
	if _, err := agent.c.WaitFor(ctx, "call_offered", nil); err != nil {
		t.Fatal(err)
	}
	phone.wait(t, ctx, "authenticated call")

	// The wrong password: the second INVITE is refused (403), so the scenario, which wants 200,
	// fails, and nothing more is offered.
	bad := startSipp(t, ctx, freeUDPPort(t), "-sf", scenario("uac_auth.xml"), "-s", "100", "-au", "pbx", "-ap", "guess", srv.SIPAddr)
	bad.waitFailed(t, ctx, "a caller with the wrong password")
}

// The trunk challenges our INVITE (401, digest): with the configured credentials the consult's
// second INVITE passes sipp's verifyauth and the number answers; with a wrong password the trunk
// answers 403 and the agent is told why the consult failed.
func TestSIPTrunkDigestAuthentication(t *testing.T) { // R8 R18
	needSipp(t)
	for _, tc := range []struct {
		name, password string
		ok             bool
	}{{"right password", "s3cret", true}, {"wrong password", "guess", false}} {
		t.Run(tc.name, func(t *testing.T) {
			trunkPort := freeUDPPort(t)
			srv := startServer(t, withSIP("sip:127.0.0.1:"+strconv.Itoa(trunkPort)), func(c *app.Config) {
				c.SIP.Trunk.Username, c.SIP.Trunk.Password = "vcc", tc.password
			})
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			number := startSipp(t, ctx, trunkPort, "-sf", scenario("uas_auth.xml"))
			cust := newParty(t, ctx, srv, "role=customer&name=Wanda", 0)
			agent := newParty(t, ctx, srv, "user=agent1", 1)
			connectCall(t, ctx, cust.c, agent.c)
			// A consultative transfer (R18) is allowed in sfu mode.
			if err := agent.c.Request(ctx, "consult", map[string]any{"kind": "number", "target": "5550142", "transfer": true}); err != nil {
				t.Fatal(err)
			}
			if !tc.ok {
				st := waitState(t, ctx, agent.c, "consult failed", func(st map[string]any) bool { return st["consult"] == nil && st["note"] != nil })
				if note, _ := st["note"].(string); note != "consult_failed: rejected (403)" {
					t.Fatalf("note %q, want the trunk's 403", note)
				}
				number.waitFailed(t, ctx, "the trunk, given a wrong password,")
				return
			}
			waitState(t, ctx, agent.c, "the number answers", func(st map[string]any) bool { return partyAs(st, "tel:5550142") == "participant" })
			if err := agent.c.Request(ctx, "cancel_consult", struct{}{}); err != nil {
				t.Fatal(err)
			}
			number.wait(t, ctx, "the authenticated call is hung up")
		})
	}
}
