package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/contactcenter/vcc/call"
)

// R30: callbacks are saved, moved, cancelled and listed by due time.
func TestCallbacksCRUD(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	cb := call.Callback{
		ID: "cb1", CallID: "c1", Customer: "+15550100", Name: "Ann", Number: "+15550100",
		Agent: "amy", Due: t0.Add(24 * time.Hour), Reason: "send quote", State: call.CallbackScheduled,
		CreatedBy: "amy", CreatedAt: t0,
	}
	if err := s.SaveCallback(ctx, cb); err != nil {
		t.Fatal(err)
	}
	got, err := s.Callback(ctx, "cb1")
	if err != nil || !reflect.DeepEqual(got, cb) {
		t.Fatalf("got %+v, %v\nwant %+v", got, err, cb)
	}
	// Move it: an update that leaves the creation fields empty keeps them.
	moved := cb
	moved.Due, moved.CreatedBy, moved.CreatedAt = t0.Add(48*time.Hour), "", time.Time{}
	if err := s.SaveCallback(ctx, moved); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Callback(ctx, "cb1")
	if !got.Due.Equal(moved.Due) || got.CreatedBy != "amy" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("after move: %+v", got)
	}
	cancelled := got
	cancelled.State = call.CallbackCancelled
	if err := s.SaveCallback(ctx, cancelled); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Callback(ctx, "cb1"); got.State != call.CallbackCancelled {
		t.Fatalf("after cancel: %+v", got)
	}
	if _, err := s.Callback(ctx, "nope"); !errors.Is(err, call.ErrNotFound) {
		t.Fatalf("missing callback: %v", err)
	}
}

func TestCallbackValidation(t *testing.T) {
	s, _ := openTemp(t)
	good := call.Callback{ID: "cb", Queue: "sales", Due: t0, State: call.CallbackScheduled}
	for name, mut := range map[string]func(*call.Callback){
		"no id":              func(c *call.Callback) { c.ID = "" },
		"no due":             func(c *call.Callback) { c.Due = time.Time{} },
		"no state":           func(c *call.Callback) { c.State = "" },
		"unknown state":      func(c *call.Callback) { c.State = "lost" },
		"no agent nor queue": func(c *call.Callback) { c.Queue = "" },
	} {
		cb := good
		mut(&cb)
		if err := s.SaveCallback(context.Background(), cb); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if cbs, _ := s.Callbacks(context.Background(), call.CallbackFilter{}); len(cbs) != 0 {
		t.Fatalf("refused callbacks stored: %+v", cbs)
	}
}

func TestCallbacksFilter(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	h := time.Hour
	for _, cb := range []call.Callback{
		{ID: "late", Agent: "amy", Due: t0.Add(3 * h), State: call.CallbackScheduled},
		{ID: "early", Agent: "amy", Due: t0.Add(1 * h), State: call.CallbackScheduled},
		{ID: "queue", Queue: "sales", Due: t0.Add(2 * h), State: call.CallbackScheduled},
		{ID: "done", Agent: "bob", Queue: "sales", Due: t0, State: call.CallbackDone},
	} {
		if err := s.SaveCallback(ctx, cb); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		f    call.CallbackFilter
		want []string
	}{
		{"all by due", call.CallbackFilter{}, []string{"done", "early", "queue", "late"}},
		{"agent", call.CallbackFilter{Agent: "amy"}, []string{"early", "late"}},
		{"queue", call.CallbackFilter{Queue: "sales"}, []string{"done", "queue"}},
		{"state", call.CallbackFilter{State: call.CallbackScheduled}, []string{"early", "queue", "late"}},
		{"due before (exclusive)", call.CallbackFilter{DueTo: t0.Add(2 * h)}, []string{"done", "early"}},
		{"due and state", call.CallbackFilter{DueTo: t0.Add(2*h + 1), State: call.CallbackScheduled}, []string{"early", "queue"}},
		{"limit", call.CallbackFilter{Limit: 1}, []string{"done"}},
	} {
		cbs, err := s.Callbacks(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, cb := range cbs {
			got = append(got, cb.ID)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// R6: the service-wide video mode is a setting.
func TestSettings(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	if _, ok, err := s.Setting(ctx, "video_mode"); ok || err != nil {
		t.Fatalf("unset setting: %v %v", ok, err)
	}
	for _, v := range []string{"sfu", "auto", ""} {
		if err := s.SetSetting(ctx, "video_mode", v); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Setting(ctx, "video_mode"); got != v || !ok || err != nil {
			t.Fatalf("after set %q: %q %v %v", v, got, ok, err)
		}
	}
	if err := s.SetSetting(ctx, "", "x"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty key: %v", err)
	}
}
