package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/contactcenter/vcc/call"
)

// R25, R26, R27: a realistic call (queued customer, agent, consult, conference, the move from the
// SFU to the MCU of R5, a tag, wrap-ups, the end) gives the summary, agents, modes, tags and
// wrap-ups that its records say.
func TestProjections(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	l := newLog(t, s, "c1", t0)
	l.add(call.RecCallStarted, "", "system", "queue", "support", "customer", "cust1", "customer_name", "Ann", "mode", "sfu", "kind", "inbound")
	l.add(call.RecPartyJoined, "cust1", "customer", "name", "Ann", "via", "browser")
	l.add(call.RecOffered, "amy", "agent") // offered is not joined: amy counts from party_joined
	l.add(call.RecPartyJoined, "amy", "controlling_agent", "via", "browser")
	l.add(call.RecModeChanged, "", "system", "mode", "sfu") // restated: not a new mode
	l.add(call.RecRecording, "amy", "controlling_agent", "state", "started", "automatic", "false")
	l.add(call.RecHold, "amy", "controlling_agent", "party", "cust1")
	l.add(call.RecConsultStarted, "amy", "controlling_agent", "target_kind", "agent", "target", "bob", "purpose", "consult")
	l.add(call.RecModeChanged, "", "system", "mode", "mcu")
	l.add(call.RecPartyJoined, "bob", "conferenced_agent")
	l.add(call.RecPartyJoined, "+15550100", "participant", "via", "phone") // not an agent
	l.add(call.RecConsultEnded, "amy", "controlling_agent", "outcome", "conference")
	l.add(call.RecConferenceStarted, "amy", "controlling_agent")
	l.add(call.RecResume, "amy", "controlling_agent", "party", "cust1")
	l.add(call.RecSupervisor, "sue", "supervisor", "mode", "monitor") // supervisors are not agents
	l.add(call.RecTag, "amy", "controlling_agent", "text", "Refund promised")
	l.add(call.RecPartyJoined, "amy", "agent") // a rejoin does not list amy twice
	l.add(call.RecPartyLeft, "bob", "conferenced_agent", "reason", "exit")
	l.add(call.RecWrapup, "bob", "conferenced_agent", "reason", "helped")
	l.add(call.RecTag, "amy", "controlling_agent", "text", "escalate")
	l.add(call.RecCallEnded, "", "system", "reason", "agent_ended")
	end := l.add(call.RecWrapup, "amy", "controlling_agent", "reason", "resolved")

	cs, err := s.Calls(ctx, call.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := call.CallSummary{
		ID: "c1", Queue: "support", Customer: "cust1",
		StartedAt: t0, EndedAt: t0.Add(20 * time.Second), EndReason: "agent_ended",
		Agents: []string{"amy", "bob"}, Modes: []string{"sfu", "mcu"}, Tags: 2,
	}
	if len(cs) != 1 || !reflect.DeepEqual(cs[0], want) {
		t.Fatalf("summary:\n got %+v\nwant %+v", cs, want)
	}

	rows, err := s.r.Query(`SELECT agent, reason, at FROM wrapups WHERE call_id = 'c1' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var wrapups []string
	var lastAt int64
	for rows.Next() {
		var agent, reason string
		if err := rows.Scan(&agent, &reason, &lastAt); err != nil {
			t.Fatal(err)
		}
		wrapups = append(wrapups, agent+":"+reason)
	}
	if !reflect.DeepEqual(wrapups, []string{"bob:helped", "amy:resolved"}) || lastAt != end.At.UnixNano() {
		t.Fatalf("wrapups %v (last at %d)", wrapups, lastAt)
	}

	tags, err := s.SearchTags(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	wantTags := []call.Tag{
		{CallID: "c1", At: t0.Add(19 * time.Second), By: "amy", Text: "escalate"},
		{CallID: "c1", At: t0.Add(15 * time.Second), By: "amy", Text: "Refund promised"},
	}
	if !reflect.DeepEqual(tags, wantTags) {
		t.Fatalf("tags:\n got %+v\nwant %+v", tags, wantTags)
	}
}

// A call still going on has no end, and a call whose customer was unknown at the start (an
// outbound call, R29) learns it from the customer's party_joined.
func TestProjectionOpenCall(t *testing.T) {
	s, _ := openTemp(t)
	l := newLog(t, s, "out1", t0)
	l.add(call.RecCallStarted, "amy", "agent", "kind", "direct", "mode", "mcu")
	l.add(call.RecPartyJoined, "amy", "controlling_agent")
	l.add(call.RecPartyJoined, "+15550100", "customer", "via", "phone")
	cs, err := s.Calls(context.Background(), call.CallFilter{})
	if err != nil || len(cs) != 1 {
		t.Fatal(cs, err)
	}
	c := cs[0]
	if !c.EndedAt.IsZero() || c.EndReason != "" || c.Customer != "+15550100" || c.Tags != 0 || !reflect.DeepEqual(c.Modes, []string{"mcu"}) {
		t.Fatalf("open call summary: %+v", c)
	}
}
