package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestSupervisorMonitorsUnseenByCustomer (R23): a supervisor lists active calls, monitors one
// silently and receives its media; agents see the supervisor in the call state, the customer never
// does; barge-in is announced to agents only.
func TestSupervisorMonitorsUnseenByCustomer(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cust := newParty(t, ctx, srv, "role=customer&name=Una", 0)
	agent := newParty(t, ctx, srv, "user=agent1", 1)
	sup := newParty(t, ctx, srv, "user=super1", 5)
	id := connectCall(t, ctx, cust.c, agent.c)

	if err := sup.c.Request(ctx, "active_calls", struct{}{}); err != nil {
		t.Fatal(err)
	}
	m, err := sup.c.WaitFor(ctx, "active_calls", nil)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Calls []struct {
			CallID string   `json:"call_id"`
			Agents []string `json:"agents"`
		}
	}
	_ = json.Unmarshal(m.Data, &list)
	if len(list.Calls) != 1 || list.Calls[0].CallID != id || len(list.Calls[0].Agents) != 1 {
		t.Fatalf("active calls %+v", list.Calls)
	}

	if err := sup.c.Request(ctx, "monitor", map[string]any{"call_id": id, "barge": false}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, agent.c, "agent sees the supervisor", func(st map[string]any) bool {
		s, _ := st["supervisors"].([]any)
		return len(s) == 1
	})
	waitHeard(t, ctx, "supervisor hears the call", sup, cust, 20)

	// Barge in: announced to the agent, and the customer now hears the supervisor, still without
	// being told who it is.
	if err := sup.c.Request(ctx, "monitor", map[string]any{"call_id": id, "barge": true}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, agent.c, "agent sees barge-in", func(st map[string]any) bool {
		s, _ := st["supervisors"].([]any)
		return len(s) == 1 && s[0].(map[string]any)["barge"] == true
	})
	waitHeard(t, ctx, "customer hears the barging supervisor", cust, sup, 10)
	if err := cust.c.Request(ctx, "media_state", map[string]bool{"audio": true, "video": true}); err != nil {
		t.Fatal(err)
	}
	st := waitState(t, ctx, cust.c, "customer state", func(map[string]any) bool { return true })
	if _, shown := st["supervisors"]; shown {
		t.Fatalf("customer was shown supervisors: %v", st["supervisors"])
	}
	for {
		m, err := cust.c.WaitFor(ctx, "call_state", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(cust.c.Events()) == 0 {
			var st map[string]any
			_ = json.Unmarshal(m.Data, &st)
			if _, shown := st["supervisors"]; shown {
				t.Fatalf("customer was shown supervisors: %v", st["supervisors"])
			}
			break
		}
	}
	if err := sup.c.Request(ctx, "hangup", struct{}{}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, agent.c, "supervisor gone", func(st map[string]any) bool { return st["supervisors"] == nil })
}
