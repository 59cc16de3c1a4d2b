package call

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Routing says, for every party and supervisor of a call, whose media it receives and whether it
// hears music instead. The media room applies it; the rules compute it from the state.
type Routing map[PartyID]Reception

// Reception is what one party or supervisor receives.
type Reception struct {
	From  []PartyID // in join order
	Music bool      // music on hold (R15) or while waiting in a queue
	// Picture is the composite this viewer sees in an MCU call (R21, R22); a forwarding room
	// ignores it. Empty for a party hearing music.
	Picture Picture
}

// Picture describes one composite: who is seen, in which order, and which tile is large. Viewers
// whose Pictures are equal share one encoder in the MCU.
type Picture struct {
	Layout string // LayoutEqual, LayoutMax*, or LayoutScreenShare (R22)
	Tiles  []Tile
	Big    int // index of the large tile in Tiles; -1 when the layout is equal
}

// Tile is one place in a Picture: a party's camera (or its name plate when its video is off) or
// its screen share.
type Tile struct {
	Party  PartyID
	Name   string // shown on the plate when there is no video (a name or a phone number, R21)
	Video  bool
	Screen bool
}

// Key is a stable string naming the picture, equal for equal pictures.
func (p Picture) Key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%d", p.Layout, p.Big)
	for _, t := range p.Tiles {
		fmt.Fprintf(&b, "|%s,%t,%t,%s", t.Party, t.Video, t.Screen, t.Name)
	}
	return b.String()
}

// RoutingOf derives the routing from the call state: a held or waiting party hears music and is
// heard by nobody (R15); a monitoring supervisor receives everyone and is received by nobody, a
// barging one is heard and seen (R23).
func RoutingOf(s State) Routing {
	rt := make(Routing, len(s.Parties)+len(s.Supervisors))
	waiting := s.Phase == PhaseQueued || s.Phase == PhaseRinging
	var talking []PartyID
	for _, p := range s.Parties {
		if !p.Held && !waiting {
			talking = append(talking, p.ID())
		}
	}
	var barging []PartyID
	for _, w := range s.Supervisors {
		if w.Barge {
			barging = append(barging, PartyID(w.User.ID))
		}
	}
	tiles := seen(s, talking, barging)
	for _, p := range s.Parties {
		if p.Held || waiting {
			rt[p.ID()] = Reception{Music: true}
			continue
		}
		rt[p.ID()] = Reception{From: append(without(talking, p.ID()), barging...), Picture: picture(s, tiles, p.Layout)}
	}
	for _, w := range s.Supervisors {
		id := PartyID(w.User.ID)
		rt[id] = Reception{From: append(append([]PartyID(nil), talking...), without(barging, id)...), Picture: picture(s, tiles, LayoutEqual)}
	}
	return rt
}

// seen lists the camera tiles every viewer of the call sees: the talking parties in join order, then
// the barging supervisors (R23).
func seen(s State, talking, barging []PartyID) []Tile {
	tiles := make([]Tile, 0, len(talking)+len(barging))
	for _, id := range talking {
		p, _ := s.party(id)
		tiles = append(tiles, Tile{Party: id, Name: p.User.Name, Video: p.Video && !p.Phone})
	}
	for _, id := range barging {
		name := string(id)
		if i := s.watcher(string(id)); i >= 0 {
			name = s.Supervisors[i].User.Name
		}
		tiles = append(tiles, Tile{Party: id, Name: name, Video: true})
	}
	return tiles
}

// picture is what a viewer who chose layout sees: a running screen share takes the large tile for
// everyone (R22); otherwise the chosen party is large (R21), and a choice whose party is not seen
// (no third party, or it is on hold) falls back to equal rather than hiding anyone.
func picture(s State, tiles []Tile, layout string) Picture {
	if len(tiles) == 0 {
		return Picture{}
	}
	if s.Screen != "" && slices.ContainsFunc(tiles, func(t Tile) bool { return t.Party == s.Screen }) {
		p, _ := s.party(s.Screen)
		share := Tile{Party: s.Screen, Name: p.User.Name, Video: true, Screen: true}
		return Picture{Layout: LayoutScreenShare, Tiles: append([]Tile{share}, tiles...), Big: 0}
	}
	var big PartyID
	switch layout {
	case LayoutMaxCustomer:
		big = s.first(func(p Party) bool { return p.As == AsCustomer })
	case LayoutMaxAgent:
		big = s.first(func(p Party) bool { return p.As == AsControlling })
	case LayoutMaxThird:
		big = s.third()
	}
	for i, t := range tiles {
		if big != "" && t.Party == big {
			return Picture{Layout: layout, Tiles: tiles, Big: i}
		}
	}
	return Picture{Layout: LayoutEqual, Tiles: tiles, Big: -1}
}

// first is the first party matching f, "" if none.
func (s State) first(f func(Party) bool) PartyID {
	for _, p := range s.Parties {
		if f(p) {
			return p.ID()
		}
	}
	return ""
}

// third is R21's third party: the most recently added party that is neither the customer nor the
// controlling agent.
func (s State) third() PartyID {
	var id PartyID
	var at time.Time
	for _, p := range s.Parties {
		if p.As != AsCustomer && p.As != AsControlling && (id == "" || !p.JoinedAt.Before(at)) {
			id, at = p.ID(), p.JoinedAt
		}
	}
	return id
}

func without(ids []PartyID, x PartyID) []PartyID {
	out := make([]PartyID, 0, len(ids))
	for _, id := range ids {
		if id != x {
			out = append(out, id)
		}
	}
	return out
}
