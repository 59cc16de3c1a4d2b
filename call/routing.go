package call

// Routing says, for every party and supervisor of a call, whose media it receives and whether it
// hears music instead. The media room applies it; the rules compute it from the state.
type Routing map[PartyID]Reception

// Reception is what one party or supervisor receives.
type Reception struct {
	From  []PartyID // in join order
	Music bool      // music on hold (R15) or while waiting in a queue
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
	for _, p := range s.Parties {
		if p.Held || waiting {
			rt[p.ID()] = Reception{Music: true}
			continue
		}
		rt[p.ID()] = Reception{From: append(without(talking, p.ID()), barging...)}
	}
	for _, w := range s.Supervisors {
		id := PartyID(w.User.ID)
		rt[id] = Reception{From: append(append([]PartyID(nil), talking...), without(barging, id)...)}
	}
	return rt
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
