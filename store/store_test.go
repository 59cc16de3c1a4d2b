package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/contactcenter/vcc/call"
)

// R25: the timeline gives back every record exactly as appended, in seq order.
func TestAppendTimeline(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	l := newLog(t, s, "c1", t0)
	want := []call.Record{
		l.add(call.RecCallStarted, "", "system", "queue", "sales", "customer", "cust1", "mode", "sfu"),
		l.add(call.RecPartyJoined, "cust1", "customer", "name", "Ann", "via", "browser"),
		l.add(call.RecHold, "amy", "controlling_agent", "party", "cust1"),
	}
	// A record with an empty (non-nil) Data map and one with none at all both round-trip.
	for _, r := range []call.Record{
		{CallID: "c1", Seq: 4, At: t0.Add(time.Hour), Type: call.RecResume, Data: map[string]string{}},
		{CallID: "c1", Seq: 5, At: t0.Add(2 * time.Hour).In(time.FixedZone("X", 3600)), Type: call.RecMedia},
	} {
		if err := s.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.At = r.At.UTC()
		want = append(want, r)
	}
	got, err := s.Timeline(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("timeline:\n got %+v\nwant %+v", got, want)
	}
	_, err = s.Timeline(ctx, "nope")
	if !errors.Is(err, call.ErrNotFound) {
		t.Fatalf("unknown call: %v, want call.ErrNotFound", err)
	}
}

func TestAppendRefusesBadRecords(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	good := call.Record{CallID: "c1", Seq: 1, At: t0, Type: call.RecCallStarted}
	for name, mut := range map[string]func(*call.Record){
		"no call id": func(r *call.Record) { r.CallID = "" },
		"seq 0":      func(r *call.Record) { r.Seq = 0 },
		"seq -1":     func(r *call.Record) { r.Seq = -1 },
		"no type":    func(r *call.Record) { r.Type = "" },
		"zero time":  func(r *call.Record) { r.At = time.Time{} },
	} {
		r := good
		mut(&r)
		if err := s.Append(ctx, r); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := s.Timeline(ctx, "c1"); !errors.Is(err, call.ErrNotFound) {
		t.Fatalf("a refused record left something behind: %v", err)
	}
	cs, err := s.Calls(ctx, call.CallFilter{})
	if err != nil || len(cs) != 0 {
		t.Fatalf("calls after refused records: %v %v", cs, err)
	}
}

func TestDuplicateSeqRefused(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	r := call.Record{CallID: "c1", Seq: 1, At: t0, Type: call.RecTag, Data: map[string]string{"text": "first"}}
	if err := s.Append(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Data = map[string]string{"text": "second"}
	if err := s.Append(ctx, r); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate: %v, want ErrDuplicate", err)
	}
	// The refused record changed no projection either.
	cs, _ := s.Calls(ctx, call.CallFilter{})
	if len(cs) != 1 || cs[0].Tags != 1 {
		t.Fatalf("calls after duplicate: %+v", cs)
	}
	tags, _ := s.SearchTags(ctx, "", 0)
	if len(tags) != 1 || tags[0].Text != "first" {
		t.Fatalf("tags after duplicate: %+v", tags)
	}
	// The same seq in another call is a different record.
	r.CallID = "c2"
	if err := s.Append(ctx, r); err != nil {
		t.Fatal(err)
	}
}

// The log is append-only in the file too, not only through this API.
func TestRecordsAppendOnly(t *testing.T) {
	s, _ := openTemp(t)
	newLog(t, s, "c1", t0).add(call.RecCallStarted, "", "system")
	for _, q := range []string{`UPDATE records SET type = 'x'`, `DELETE FROM records`} {
		if _, err := s.w.Exec(q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
}

// R25, R26, R27, R30, R6: everything written is there after Close and Open.
func TestReopenFindsEverything(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	l := newLog(t, s, "c1", t0)
	l.add(call.RecCallStarted, "", "system", "queue", "sales", "customer", "cust1", "mode", "sfu")
	l.add(call.RecPartyJoined, "amy", "controlling_agent")
	l.add(call.RecTag, "amy", "controlling_agent", "text", "Angry customer")
	l.add(call.RecCallEnded, "", "system", "reason", "hangup")
	cb := call.Callback{ID: "cb1", CallID: "c1", Agent: "amy", Due: t0.Add(time.Hour), State: call.CallbackScheduled}
	if err := s.SaveCallback(ctx, cb); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSetting(ctx, "video_mode", "auto"); err != nil {
		t.Fatal(err)
	}

	s = reopen(t, s, path)
	if tl, err := s.Timeline(ctx, "c1"); err != nil || len(tl) != 4 {
		t.Fatalf("timeline after reopen: %d records, %v", len(tl), err)
	}
	cs, err := s.Calls(ctx, call.CallFilter{})
	if err != nil || len(cs) != 1 || cs[0].EndReason != "hangup" || cs[0].Tags != 1 || !reflect.DeepEqual(cs[0].Agents, []string{"amy"}) {
		t.Fatalf("calls after reopen: %+v, %v", cs, err)
	}
	if tags, err := s.SearchTags(ctx, "angry", 10); err != nil || len(tags) != 1 {
		t.Fatalf("tags after reopen: %+v, %v", tags, err)
	}
	if got, err := s.Callback(ctx, "cb1"); err != nil || got.Agent != "amy" || !got.Due.Equal(cb.Due) {
		t.Fatalf("callback after reopen: %+v, %v", got, err)
	}
	if v, ok, err := s.Setting(ctx, "video_mode"); err != nil || !ok || v != "auto" {
		t.Fatalf("setting after reopen: %q %v %v", v, ok, err)
	}
}

func TestClosed(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := context.Background()
	if err := s.Append(ctx, call.Record{CallID: "c", Seq: 1, At: t0, Type: "x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	if _, err := s.Calls(ctx, call.CallFilter{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Calls after Close: %v", err)
	}
	if err := s.SetSetting(ctx, "k", "v"); !errors.Is(err, ErrClosed) {
		t.Errorf("SetSetting after Close: %v", err)
	}
}

// A caller that gave up before its write was taken gets its context error and nothing is stored.
func TestAppendCancelled(t *testing.T) {
	s, _ := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Append(ctx, call.Record{CallID: "c", Seq: 1, At: t0, Type: "x"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with cancelled ctx: %v", err)
	}
	if _, err := s.Timeline(context.Background(), "c"); !errors.Is(err, call.ErrNotFound) {
		t.Fatalf("cancelled append was stored: %v", err)
	}
}

func TestOpenRejects(t *testing.T) {
	for _, p := range []string{"", ":memory:"} {
		if _, err := Open(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("Open(%q): %v, want ErrInvalid", p, err)
		}
	}
	if _, err := Open(t.TempDir()+"/x.db", WithMaxBatch(0)); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open with max batch 0: %v", err)
	}
}

// A path with URI-special characters still names the file it says.
func TestOpenOddPath(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/a b?c#d%25.db"
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	newLog(t, s, "c1", t0).add(call.RecCallStarted, "", "system")
	s = reopen(t, s, path)
	if _, err := s.Timeline(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
}
