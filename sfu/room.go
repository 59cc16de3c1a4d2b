// Package sfu is the media room that routes: every party receives every other party's sources as
// they are, with no decoding. Keyframe requests travel back through the sources.
package sfu

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/media"
)

// Room is one call's SFU. Its routing is recomputed (reconcile) whenever membership or a member's
// sources change; the media path itself never takes the room's lock.
type Room struct {
	id    call.CallID
	log   *slog.Logger
	music media.Source // what held and waiting parties hear; nil: silence

	mu      sync.Mutex
	members map[call.PartyID]*member
	order   []call.PartyID
	routing call.Routing // nil until the call applies one: everyone receives everyone
	closed  bool
}

type member struct {
	ep       call.Endpoint
	attached map[media.Source]bool // other parties' sources this member receives
}

// Option configures a Room.
type Option func(*Room)

// WithMusic sets the source held and waiting parties hear (R15).
func WithMusic(src media.Source) Option { return func(r *Room) { r.music = src } }

// New returns an empty room for call id.
func New(id call.CallID, log *slog.Logger, opts ...Option) *Room {
	if log == nil {
		log = slog.Default()
	}
	r := &Room{id: id, log: log.With("call", id, "room", "sfu"), members: map[call.PartyID]*member{}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Apply sets who receives whom (hold, consult, supervisors) and routes accordingly.
func (r *Room) Apply(rt call.Routing) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("%w: room closed", call.ErrInvalidState)
	}
	r.routing = rt
	r.reconcileLocked()
	return nil
}

// Join adds ep and routes media between it and the members already there.
func (r *Room) Join(ep call.Endpoint) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("%w: room closed", call.ErrInvalidState)
	}
	if _, ok := r.members[ep.ID()]; ok {
		return fmt.Errorf("%w: %s already in the room", call.ErrInvalidState, ep.ID())
	}
	r.members[ep.ID()] = &member{ep: ep, attached: map[media.Source]bool{}}
	r.order = append(r.order, ep.ID())
	ep.OnSourcesChanged(r.reconcile)
	r.reconcileLocked()
	return nil
}

// Leave removes a party: nobody receives its sources any more, and it receives nothing.
func (r *Room) Leave(id call.PartyID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.members[id]
	if !ok {
		return
	}
	m.ep.OnSourcesChanged(nil)
	for src := range m.attached {
		m.ep.Detach(src)
	}
	delete(r.members, id)
	for i, p := range r.order {
		if p == id {
			r.order = append(r.order[:i:i], r.order[i+1:]...)
			break
		}
	}
	r.reconcileLocked()
}

// Close detaches everything; the endpoints themselves belong to the call.
func (r *Room) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, m := range r.members {
		m.ep.OnSourcesChanged(nil)
		for src := range m.attached {
			m.ep.Detach(src)
		}
	}
	r.members = map[call.PartyID]*member{}
	r.order = nil
	return nil
}

func (r *Room) reconcile() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.reconcileLocked()
	}
}

// reconcileLocked makes each member receive exactly what the routing gives it: the current sources
// of the members it receives from, and the music when it is held or waiting.
func (r *Room) reconcileLocked() {
	sources := make(map[call.PartyID][]media.Source, len(r.members))
	for id, m := range r.members {
		sources[id] = m.ep.Sources()
	}
	for _, id := range r.order {
		m := r.members[id]
		var want []media.Source
		for _, from := range r.from(id) {
			want = append(want, sources[from]...)
		}
		if r.music != nil && r.routing != nil && r.routing[id].Music {
			want = append(want, r.music)
		}
		added, refused := call.Reattach(m.ep, m.attached, want)
		call.LogRefused(r.log, id, refused)
		for _, src := range added {
			if src.Kind() == media.Video {
				src.RequestKeyframe() // the new viewer can decode at once
			}
		}
	}
}

// from is whom member id receives: the routing's list, or every other member before any routing.
func (r *Room) from(id call.PartyID) []call.PartyID {
	if r.routing != nil {
		var out []call.PartyID
		for _, p := range r.routing[id].From {
			if _, ok := r.members[p]; ok {
				out = append(out, p)
			}
		}
		return out
	}
	out := make([]call.PartyID, 0, len(r.order))
	for _, p := range r.order {
		if p != id {
			out = append(out, p)
		}
	}
	return out
}
