package e2e

import (
	"context"
	"testing"
	"time"
)

// TestWrongRoleRefusedAndNothingChanges (R28): call controls from a role that may not use them are
// refused with forbidden and leave the call as it was; unknown and stale ids get clear codes.
func TestWrongRoleRefusedAndNothingChanges(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := dial(t, ctx, srv, "user=admin1")
	if err := admin.Request(ctx, "video_mode", map[string]string{"mode": "mcu"}); err != nil {
		t.Fatal(err)
	}
	cust := dial(t, ctx, srv, "role=customer&name=Rita")
	a := dial(t, ctx, srv, "user=agent1")
	b := dial(t, ctx, srv, "user=agent2")
	id := connectCall(t, ctx, cust, a)
	if err := b.Request(ctx, "agent_state", map[string]string{"state": "available"}); err != nil {
		t.Fatal(err)
	}

	// R7, R17: a customer cannot transfer, consult, hold or end the call for everyone.
	expectCode(t, cust.Request(ctx, "transfer", map[string]string{"kind": "agent", "target": "agent2"}), "forbidden")
	expectCode(t, cust.Request(ctx, "consult", map[string]string{"kind": "agent", "target": "agent2"}), "forbidden")
	expectCode(t, cust.Request(ctx, "hold", struct{}{}), "forbidden")
	expectCode(t, cust.Request(ctx, "end_call", struct{}{}), "forbidden")
	// Supervisor-only and admin-only controls.
	expectCode(t, a.Request(ctx, "monitor", map[string]string{"call_id": id}), "forbidden")
	expectCode(t, a.Request(ctx, "video_mode", map[string]string{"mode": "sfu"}), "forbidden")
	expectCode(t, cust.Request(ctx, "active_calls", struct{}{}), "forbidden")

	// A conferenced agent cannot end the call (R13) nor transfer it (R17).
	if err := a.Request(ctx, "consult", map[string]string{"kind": "agent", "target": "agent2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitFor(ctx, "call_offered", nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Request(ctx, "accept", map[string]string{"call_id": id}); err != nil {
		t.Fatal(err)
	}
	if err := a.Request(ctx, "conference", struct{}{}); err != nil {
		t.Fatal(err)
	}
	expectCode(t, b.Request(ctx, "end_call", struct{}{}), "forbidden")
	expectCode(t, b.Request(ctx, "transfer", map[string]string{"kind": "queue", "target": "general"}), "forbidden")
	// Nothing changed: the call still has three parties talking, A still controls it.
	if err := cust.Request(ctx, "media_state", map[string]bool{"audio": true, "video": true}); err != nil {
		t.Fatal(err)
	}
	st := waitState(t, ctx, a, "state after refusals", func(st map[string]any) bool {
		ps, _ := st["parties"].([]any)
		return len(ps) == 3 && st["conference"] == true
	})
	if partyAs(st, "agent1") != "controlling_agent" || partyAs(st, "agent2") != "conferenced_agent" {
		t.Fatalf("roles changed: %v", st["parties"])
	}

	// Unknown ids and stale state.
	expectCode(t, b.Request(ctx, "accept", map[string]string{"call_id": "c-nope"}), "invalid_state") // b is in a call
	idle := dial(t, ctx, srv, "user=agent4")
	expectCode(t, idle.Request(ctx, "accept", map[string]string{"call_id": "c-nope"}), "not_found")
	expectCode(t, idle.Request(ctx, "decline", map[string]string{"call_id": id}), "invalid_state") // not offered to agent4
	if err := a.Request(ctx, "end_call", struct{}{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cust.WaitFor(ctx, "call_ended", nil); err != nil {
		t.Fatal(err)
	}
	expectCode(t, a.Request(ctx, "hold", struct{}{}), "invalid_state") // the call just ended
	expectCode(t, cust.Request(ctx, "offer", map[string]string{"sdp": "v=0"}), "invalid_state")
}
