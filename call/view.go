package call

// View is the call state as viewer v sees it (R23: customers and non-agent participants never see
// supervisors), with the actions v may take now.
func View(s State, v PartyID) CallState {
	viewer, isParty := s.party(v)
	seesSupervisors := !isParty || viewer.IsAgent()
	cs := CallState{CallID: s.ID, Phase: s.Phase, Queue: s.Queue, Media: s.Media, Conference: s.Conference,
		Assist: s.Assist, Recording: s.Recording, Screen: s.Screen,
		Parties: make([]PartyView, 0, len(s.Parties))}
	cs.Actions, cs.Blocked = actions(s, v)
	if s.Media == ModeMCU {
		cs.Layout = LayoutEqual
		if isParty && viewer.Layout != "" {
			cs.Layout = viewer.Layout
		}
		if s.Screen != "" {
			cs.Layout = LayoutScreenShare
		}
	}
	for _, q := range s.Parties {
		cs.Parties = append(cs.Parties, PartyView{ID: q.ID(), Name: q.User.Name, Role: q.User.Role, As: q.As,
			Audio: q.Audio, Video: q.Video, Held: q.Held, Phone: q.Phone, RemoteHold: q.RemoteHold})
	}
	if seesSupervisors {
		for _, w := range s.Supervisors {
			cs.Supervisors = append(cs.Supervisors, SupervisorView{ID: w.User.ID, Name: w.User.Name, Barge: w.Barge})
		}
	}
	if s.Consult != nil && (!isParty || viewer.IsAgent()) {
		c := *s.Consult
		cs.Consult = &c
	}
	return cs
}

// Actions is what v may do now. It asks the rules themselves, so a button a client enables is one
// the server will accept (targets and availability of agents aside).
func Actions(s State, v PartyID) []string {
	a, _ := actions(s, v)
	return a
}

// actions returns what v may do now and, for what a rule forbids, that rule's code (R28), so a
// client can say why a button is disabled.
func actions(s State, v PartyID) ([]string, map[string]string) {
	if s.Phase == PhaseEnded {
		return nil, nil
	}
	p, isParty := s.party(v)
	if !isParty {
		return nil, nil
	}
	var other PartyID
	for _, q := range s.Parties {
		if !q.IsAgent() && q.ID() != v {
			other = q.ID()
			if q.Held {
				break
			}
		}
	}
	probe := Target{Kind: TargetQueue, ID: s.Queue}
	candidates := []struct {
		name string
		cmd  Command
	}{
		{"hangup", Leave{Party: v}},
		{"media_state", SetMedia{Party: v, Audio: p.Audio, Video: p.Video}},
		{"end_call", End{By: v}},
		{"consult", StartConsult{By: v, Target: probe}},
		{"consult_transfer", StartConsult{By: v, Target: probe, Transfer: true}},
		{"cancel_consult", CancelConsult{By: v}},
		{"conference", StartConference{By: v}},
		{"complete_transfer", CompleteTransfer{By: v}},
		{"transfer", BlindTransfer{By: v, Target: probe}},
		{"hold", Hold{By: v, Party: other}},
		{"resume", Resume{By: v, Party: other}},
		{"screenshare", ScreenShare{By: v, On: s.Screen != v}},
		{"layout", SetLayout{By: v, Layout: LayoutMaxCustomer}},
		{"record", SetRecording{By: v, On: !s.Recording}},
		{"tag", AddTag{By: v, Text: "x"}},
	}
	var out []string
	var blocked map[string]string
	for _, c := range candidates {
		err := allowed(s, c.cmd)
		switch code := CodeOf(err); {
		case err == nil:
			out = append(out, c.name)
		case code != "" && code != ErrInvalidState.code && code != ErrNotFound.code && code != ErrForbidden.code && code != ErrBadRequest.code:
			if blocked == nil {
				blocked = map[string]string{}
			}
			blocked[c.name] = code
		}
	}
	return out, blocked
}
