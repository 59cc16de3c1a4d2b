package sfu

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/media"
)

type src struct {
	id   string
	kind media.Kind
	kf   int
}

func (s *src) ID() string                   { return s.id }
func (s *src) Label() string                { return "camera" }
func (s *src) Kind() media.Kind             { return s.kind }
func (s *src) Codec() media.Codec           { return media.Codec{MimeType: "video/VP8"} }
func (s *src) AddSink(media.Sink) error     { return nil }
func (s *src) RemoveSink(media.Sink)        {}
func (s *src) RequestKeyframe()             { s.kf++ }
func (s *src) WriteRTP(*rtp.Header, []byte) {}

type ep struct {
	id      call.PartyID
	sources []media.Source
	mu      sync.Mutex
	got     []string
	onSrc   func()
}

func (e *ep) ID() call.PartyID          { return e.id }
func (e *ep) Role() call.Role           { return call.Customer }
func (e *ep) Caps() call.Caps           { return call.Caps{Audio: true, Video: true} }
func (e *ep) Sources() []media.Source   { return e.sources }
func (e *ep) OnSourcesChanged(f func()) { e.onSrc = f }
func (e *ep) Context() context.Context  { return context.Background() }
func (e *ep) Close(error) error         { return nil }
func (e *ep) Attach(s media.Source) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, s.ID())
	return nil
}
func (e *ep) Detach(s media.Source) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = slices.DeleteFunc(e.got, func(x string) bool { return x == s.ID() })
}
func (e *ep) receives() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := slices.Clone(e.got)
	slices.Sort(out)
	return out
}

func party(id string) *ep {
	return &ep{id: call.PartyID(id), sources: []media.Source{&src{id: id + "/a", kind: media.Audio}, &src{id: id + "/v", kind: media.Video}}}
}

func want(t *testing.T, e *ep, ids ...string) {
	t.Helper()
	slices.Sort(ids)
	if got := e.receives(); !slices.Equal(got, ids) {
		t.Fatalf("%s receives %v, want %v", e.id, got, ids)
	}
}

func TestRoomRoutesByRouting(t *testing.T) {
	music := &src{id: "music", kind: media.Audio}
	r := New("c1", nil, WithMusic(music))
	cust, agent, helper := party("cust"), party("agent"), party("helper")
	for _, e := range []*ep{cust, agent} {
		if err := r.Join(e); err != nil {
			t.Fatal(err)
		}
	}
	// Before any routing everyone receives everyone; a new video viewer asks for a keyframe.
	want(t, cust, "agent/a", "agent/v")
	want(t, agent, "cust/a", "cust/v")
	if kf := agent.sources[1].(*src).kf; kf == 0 {
		t.Fatal("attaching a video viewer requested no keyframe")
	}

	// R9/R15: consult: the customer is held (music, heard by nobody); agent and helper talk.
	if err := r.Join(helper); err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(call.Routing{
		"cust":   {Music: true},
		"agent":  {From: []call.PartyID{"helper"}},
		"helper": {From: []call.PartyID{"agent"}},
	}); err != nil {
		t.Fatal(err)
	}
	want(t, cust, "music")
	want(t, agent, "helper/a", "helper/v")
	want(t, helper, "agent/a", "agent/v")

	// A source that appears later (a screen share) reaches whoever receives its party.
	helper.sources = append(helper.sources, &src{id: "helper/screen", kind: media.Video})
	helper.onSrc()
	want(t, agent, "helper/a", "helper/v", "helper/screen")

	// Leaving takes the party's sources away from everyone.
	r.Leave("helper")
	want(t, agent)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	want(t, cust)
	if err := r.Apply(call.Routing{}); err == nil {
		t.Fatal("a closed room accepted routing")
	}
	if err := r.Join(party("late")); err == nil {
		t.Fatal("a closed room accepted a party")
	}
}
