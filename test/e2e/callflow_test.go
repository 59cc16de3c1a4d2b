package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactcenter/vcc/client"
	"github.com/contactcenter/vcc/cmd/app"
)

// waitCount waits until counter has grown by n (media is event-driven: poll it briefly). A diag
// function adds what it returns to the failure message.
func waitCount(t *testing.T, ctx context.Context, what string, counter *atomic.Int64, n int64, diag ...func() string) {
	t.Helper()
	start := counter.Load()
	for counter.Load() < start+n {
		select {
		case <-ctx.Done():
			more := ""
			for _, d := range diag {
				more += " (" + d() + ")"
			}
			t.Fatalf("%s: got %d more, want %d%s", what, counter.Load()-start, n, more)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func expectCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("got %v, want error code %q", err, code)
	}
}

// waitState waits for a call_state matching pred.
func waitState(t *testing.T, ctx context.Context, c *client.Client, what string, pred func(map[string]any) bool) map[string]any {
	t.Helper()
	m, err := c.WaitFor(ctx, "call_state", func(m client.Message) bool {
		var st map[string]any
		_ = json.Unmarshal(m.Data, &st)
		return pred(st)
	})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var st map[string]any
	_ = json.Unmarshal(m.Data, &st)
	return st
}

func partyAs(st map[string]any, id string) string {
	ps, _ := st["parties"].([]any)
	for _, p := range ps {
		m, _ := p.(map[string]any)
		if m["id"] == id {
			s, _ := m["as"].(string)
			return s
		}
	}
	return ""
}

// TestCallModelEndToEnd walks the help-seeking life of a call through the real server with Go
// WebSocket + pion clients, then reads the stored timeline over REST.
func TestCallModelEndToEnd(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// R3: in sfu mode help-seeking is refused, so the admin switches to mcu (R6: new calls only).
	admin := dial(t, ctx, srv, "user=admin1")
	if err := admin.Request(ctx, "video_mode", map[string]string{"mode": "mcu"}); err != nil {
		t.Fatal(err)
	}

	a := newParty(t, ctx, srv, "user=agent1", 1)
	b := newParty(t, ctx, srv, "user=agent2", 2)
	cAgent := newParty(t, ctx, srv, "user=agent4", 3)
	cust := newParty(t, ctx, srv, "role=customer&name=Wanda", 0)

	id := connectCall(t, ctx, cust.c, a.c)
	waitHeard(t, ctx, "customer hears agent A", cust, a, 20)
	for _, x := range []*party{b, cAgent} { // B first: B is then the longest idle (R8)
		if err := x.c.Request(ctx, "agent_state", map[string]string{"state": "available"}); err != nil {
			t.Fatal(err)
		}
	}
	// R7: the customer cannot add anyone.
	expectCode(t, cust.c.Request(ctx, "consult", map[string]string{"kind": "queue", "target": "general"}), "forbidden")

	// R8, R9: A consults the skill queue; B (idle longest) is offered it; the customer is held and
	// hears music (R15).
	if err := a.c.Request(ctx, "consult", map[string]string{"kind": "queue", "target": "general"}); err != nil {
		t.Fatal(err)
	}
	m, err := b.c.WaitFor(ctx, "call_offered", nil)
	if err != nil {
		t.Fatal(err)
	}
	if callID(m) != id {
		t.Fatalf("B offered %s, want %s", callID(m), id)
	}
	if err := b.c.Request(ctx, "accept", map[string]string{"call_id": id}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, a.c, "consult connected", func(st map[string]any) bool { return partyAs(st, "agent2") == "conferenced_agent" })
	waitCount(t, ctx, "held customer hears music on hold", &cust.other, 25)
	waitHeard(t, ctx, "A hears helper B", a, b, 10)

	// Conference: everyone talks; hold is refused (R16).
	if err := a.c.Request(ctx, "conference", struct{}{}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, cust.c, "customer in conference", func(st map[string]any) bool { return st["conference"] == true })
	expectCode(t, a.c.Request(ctx, "hold", struct{}{}), "hold_in_conference")
	// The UI is told why its hold button is disabled.
	waitState(t, ctx, a.c, "hold blocked by R16", func(st map[string]any) bool {
		b, _ := st["blocked"].(map[string]any)
		return b["hold"] == "hold_in_conference"
	})
	// R8: only the controlling agent seeks help.
	expectCode(t, b.c.Request(ctx, "consult", map[string]string{"kind": "agent", "target": "agent4"}), "forbidden")

	// A brings in C too (a second consult, then the conference again).
	if err := a.c.Request(ctx, "consult", map[string]string{"kind": "agent", "target": "agent4"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cAgent.c.WaitFor(ctx, "call_offered", nil); err != nil {
		t.Fatal(err)
	}
	if err := cAgent.c.Request(ctx, "accept", map[string]string{"call_id": id}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, a.c, "C joined", func(st map[string]any) bool { return partyAs(st, "agent4") == "conferenced_agent" })
	if err := a.c.Request(ctx, "conference", struct{}{}); err != nil {
		t.Fatal(err)
	}

	// R12: A exits; control passes to B, in the call longer than C.
	if err := a.c.Request(ctx, "hangup", struct{}{}); err != nil {
		t.Fatal(err)
	}
	st := waitState(t, ctx, b.c, "control passes", func(st map[string]any) bool { return partyAs(st, "agent2") == "controlling_agent" })
	if partyAs(st, "agent4") != "conferenced_agent" {
		t.Fatalf("C is %q after A exited", partyAs(st, "agent4"))
	}
	if _, err := a.c.WaitFor(ctx, "wrapup_started", nil); err != nil { // R2
		t.Fatal(err)
	}

	// R14: the customer leaves; B and C go on in wrap-up assist; nobody can be added or held.
	if err := cust.c.Request(ctx, "hangup", struct{}{}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, b.c, "wrap-up assist", func(st map[string]any) bool { return st["wrapup_assist"] == true })
	expectCode(t, b.c.Request(ctx, "consult", map[string]string{"kind": "queue", "target": "general"}), "wrapup_assist")

	// R13: C hangs up; one party is left and the call ends.
	if err := cAgent.c.Request(ctx, "hangup", struct{}{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.c.WaitFor(ctx, "call_ended", nil); err != nil {
		t.Fatal(err)
	}
	// R27: A wraps up with a reason from the queue's list; a made-up reason is refused.
	expectCode(t, a.c.Request(ctx, "wrapup", map[string]string{"reason": "made_up"}), "bad_wrapup_reason")
	if err := a.c.Request(ctx, "wrapup", map[string]string{"reason": "resolved"}); err != nil {
		t.Fatal(err)
	}

	// R25: the stored timeline has every step, in order, with times and roles.
	recs := timeline(t, srv, id)
	want := []struct{ typ, actor, role string }{
		{"call_started", "", ""},
		{"party_joined", "", "customer"},
		{"party_joined", "agent1", "controlling_agent"},
		{"consult_started", "agent1", "controlling_agent"},
		{"hold", "agent1", "controlling_agent"},
		{"party_joined", "agent2", "conferenced_agent"},
		{"conference_started", "agent1", "controlling_agent"},
		{"resume", "", "system"},
		{"consult_started", "agent1", "controlling_agent"},
		{"party_joined", "agent4", "conferenced_agent"},
		{"conference_started", "agent1", ""},
		{"party_left", "agent1", "controlling_agent"},
		{"control_passed", "agent2", "controlling_agent"},
		{"party_left", "", "customer"},
		{"wrapup_assist", "", ""},
		{"party_left", "agent4", "conferenced_agent"},
		{"call_ended", "", ""},
		{"wrapup", "agent1", ""},
	}
	i := 0
	var last time.Time
	for _, r := range recs {
		at, err := time.Parse(time.RFC3339Nano, r.At)
		if err != nil || at.Before(last) {
			t.Fatalf("record %d has time %q after %v", r.Seq, r.At, last)
		}
		last = at
		if i < len(want) && r.Type == want[i].typ && (want[i].actor == "" || r.Actor == want[i].actor) && (want[i].role == "" || r.Role == want[i].role) {
			i++
		}
	}
	if i < len(want) {
		t.Fatalf("timeline lacks step %d %+v in order; got:\n%s", i, want[i], dump(recs))
	}
}

type rec struct {
	Seq   int               `json:"seq"`
	At    string            `json:"at"`
	Type  string            `json:"type"`
	Actor string            `json:"actor"`
	Role  string            `json:"role"`
	Data  map[string]string `json:"data"`
}

func timeline(t *testing.T, srv *app.Server, id string) []rec {
	t.Helper()
	return timelineAt(t, baseURL(srv), id)
}

func timelineAt(t *testing.T, base, id string) []rec {
	t.Helper()
	tok, err := client.DemoToken(context.Background(), base, "user=super1")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/calls/"+id+"/timeline", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("timeline: HTTP %d", resp.StatusCode)
	}
	var out struct{ Records []rec }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Records
}

func dump(recs []rec) string {
	b, _ := json.MarshalIndent(recs, "", " ")
	return string(b)
}
