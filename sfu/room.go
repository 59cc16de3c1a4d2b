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
	id  call.CallID
	log *slog.Logger

	mu      sync.Mutex
	members map[call.PartyID]*member
	order   []call.PartyID
	closed  bool
}

type member struct {
	ep       call.Endpoint
	attached map[media.Source]bool // other parties' sources this member receives
}

// New returns an empty room for call id.
func New(id call.CallID, log *slog.Logger) *Room {
	if log == nil {
		log = slog.Default()
	}
	return &Room{id: id, log: log.With("call", id, "room", "sfu"), members: map[call.PartyID]*member{}}
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

// reconcileLocked makes each member receive exactly the other members' current sources.
func (r *Room) reconcileLocked() {
	sources := make(map[call.PartyID][]media.Source, len(r.members))
	for id, m := range r.members {
		sources[id] = m.ep.Sources()
	}
	for _, id := range r.order {
		m := r.members[id]
		want := map[media.Source]bool{}
		for _, other := range r.order {
			if other == id {
				continue
			}
			for _, src := range sources[other] {
				want[src] = true
			}
		}
		for src := range m.attached {
			if !want[src] {
				m.ep.Detach(src)
				delete(m.attached, src)
			}
		}
		for _, other := range r.order {
			if other == id {
				continue
			}
			for _, src := range sources[other] {
				if m.attached[src] {
					continue
				}
				if err := m.ep.Attach(src); err != nil {
					r.log.Warn("attach failed", "party", id, "source", src.ID(), "err", err)
					continue
				}
				m.attached[src] = true
				if src.Kind() == media.Video {
					src.RequestKeyframe() // the new viewer can decode at once
				}
			}
		}
	}
}
