package store

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/contactcenter/vcc/call"
)

func TestCallsFilters(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	h := time.Hour
	simpleCall(t, s, "a", t0, "sales", "cust1", "amy", "hangup")
	simpleCall(t, s, "b", t0.Add(h), "support", "cust2", "bob", "abandoned")
	simpleCall(t, s, "c", t0.Add(2*h), "sales", "cust2", "amy", "hangup")
	simpleCall(t, s, "d", t0.Add(3*h), "support", "cust1", "bob", "") // still going on

	for _, tc := range []struct {
		name string
		f    call.CallFilter
		want []call.CallID
	}{
		{"all, newest first", call.CallFilter{}, []call.CallID{"d", "c", "b", "a"}},
		{"from", call.CallFilter{From: t0.Add(h)}, []call.CallID{"d", "c", "b"}},
		{"to is exclusive", call.CallFilter{To: t0.Add(2 * h)}, []call.CallID{"b", "a"}},
		{"range", call.CallFilter{From: t0.Add(h), To: t0.Add(3 * h)}, []call.CallID{"c", "b"}},
		{"agent", call.CallFilter{Agent: "amy"}, []call.CallID{"c", "a"}},
		{"queue", call.CallFilter{Queue: "support"}, []call.CallID{"d", "b"}},
		{"customer", call.CallFilter{Customer: "cust2"}, []call.CallID{"c", "b"}},
		{"end reason", call.CallFilter{EndReason: "hangup"}, []call.CallID{"c", "a"}},
		{"combined", call.CallFilter{Agent: "bob", Customer: "cust1"}, []call.CallID{"d"}},
		{"limit", call.CallFilter{Limit: 2}, []call.CallID{"d", "c"}},
		{"no match", call.CallFilter{Agent: "nobody"}, []call.CallID{}},
	} {
		cs, err := s.Calls(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := ids(cs); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCallsLimitDefaultAndMax(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	// 1001 call rows in one statement: the limit is what is tested here, not Append (and the
	// race detector makes a thousand Appends slow).
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
			INSERT INTO calls (id, started_at) SELECT printf('c%04d', i), ? + i * 1000000000 FROM n`, t0.UnixNano())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ limit, want int }{{0, 100}, {-5, 100}, {5000, 1000}, {1000, 1000}, {7, 7}} {
		cs, err := s.Calls(ctx, call.CallFilter{Limit: tc.limit})
		if err != nil || len(cs) != tc.want {
			t.Errorf("limit %d: %d calls, %v; want %d", tc.limit, len(cs), err, tc.want)
		}
	}
}

// R26: tags are found by a case-insensitive substring; '%' and '_' in the query are plain text.
func TestSearchTags(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	l := newLog(t, s, "c1", t0)
	l.add(call.RecCallStarted, "", "system")
	texts := []string{"100% refund", "1000 refund", "order_id 7", "orderXid 8", "ÉCOLE visit", "Angry Customer"}
	for _, text := range texts {
		l.add(call.RecTag, "amy", "controlling_agent", "text", text)
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"%", []string{"100% refund"}},
		{"0% r", []string{"100% refund"}},
		{"_", []string{"order_id 7"}},
		{"r_i", []string{"order_id 7"}},
		{"REFUND", []string{"1000 refund", "100% refund"}},
		{"angry customer", []string{"Angry Customer"}},
		{"école", []string{"ÉCOLE visit"}}, // folded in Go, beyond ASCII
		{"nothing like it", nil},
		{"", []string{"Angry Customer", "ÉCOLE visit", "orderXid 8", "order_id 7", "1000 refund", "100% refund"}},
	} {
		tags, err := s.SearchTags(ctx, tc.q, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tg := range tags {
			got = append(got, tg.Text)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("search %q: got %q, want %q", tc.q, got, tc.want)
		}
	}
	if tags, _ := s.SearchTags(ctx, "", 2); len(tags) != 2 || tags[0].Text != "Angry Customer" {
		t.Errorf("limit 2: %+v", tags)
	}
}

// R25 crash recovery: calls left open by a crash are ended with the next seq, and only they.
func TestEndUnfinished(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	simpleCall(t, s, "done", t0, "sales", "cust1", "amy", "hangup")
	simpleCall(t, s, "open1", t0.Add(time.Minute), "sales", "cust2", "bob", "")
	// A call whose call_started never made it to disk is still found.
	if err := s.Append(ctx, call.Record{CallID: "open2", Seq: 1, At: t0.Add(2 * time.Minute), Type: call.RecPartyJoined, Actor: "cust3", Role: "customer"}); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, path) // as a restarted server would
	at := t0.Add(time.Hour)
	ended, err := s.EndUnfinished(ctx, "server_restart", at)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ended, []call.CallID{"open1", "open2"}) {
		t.Fatalf("ended %v", ended)
	}
	tl, err := s.Timeline(ctx, "open1")
	if err != nil {
		t.Fatal(err)
	}
	last := tl[len(tl)-1]
	want := call.Record{CallID: "open1", Seq: 4, At: at, Type: call.RecCallEnded, Role: "system", Data: map[string]string{"reason": "server_restart"}}
	if !reflect.DeepEqual(last, want) {
		t.Fatalf("appended record %+v, want %+v", last, want)
	}
	cs, _ := s.Calls(ctx, call.CallFilter{EndReason: "server_restart"})
	if got := ids(cs); !reflect.DeepEqual(got, []call.CallID{"open2", "open1"}) || !cs[0].EndedAt.Equal(at) {
		t.Fatalf("ended calls %v %+v", got, cs)
	}
	again, err := s.EndUnfinished(ctx, "server_restart", at)
	if err != nil || len(again) != 0 {
		t.Fatalf("second run ended %v, %v", again, err)
	}
	if _, err := s.EndUnfinished(ctx, "x", time.Time{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("zero time: %v", err)
	}
}
