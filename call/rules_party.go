package call

import "fmt"

func (r *rules) join(c Join) error {
	p := c.Party
	id := p.ID()
	if _, in := r.s.party(id); in {
		return fmt.Errorf("%w: %s is already in call %s", ErrInvalidState, id, r.s.ID)
	}
	if p.As == "" {
		p.As = r.defaultRole(p)
	}
	switch p.As {
	case AsCustomer:
		if r.s.count(AsCustomer) > 0 {
			return fmt.Errorf("%w: call %s already has a customer", ErrInvalidState, r.s.ID)
		}
	case AsControlling:
		if p.User.Role != Agent {
			return fmt.Errorf("%w: a %s cannot control a call", ErrForbidden, p.User.Role)
		}
		if _, has := r.s.controlling(); has {
			return fmt.Errorf("%w: call %s already has a controlling agent", ErrInvalidState, r.s.ID)
		}
		if r.s.count(AsCustomer) == 0 && r.s.Phase != PhaseQueued {
			return fmt.Errorf("%w: call %s has no customer", ErrInvalidState, r.s.ID)
		}
	case AsConferenced, AsParticipant:
		if p.As == AsConferenced && p.User.Role != Agent {
			return fmt.Errorf("%w: a %s cannot be a conferenced agent", ErrForbidden, p.User.Role)
		}
		// A direct call between agents (R29) has no customer: its callee joins as conferenced agent.
		direct := r.s.count(AsCustomer) == 0 && r.s.Phase != PhaseConnected
		// R17: the number a customer was blindly transferred to answers.
		transfer := p.As == AsParticipant && p.Phone && r.s.Transfer != nil && r.s.Transfer.Kind == TargetNumber &&
			id == PartyID("tel:"+r.s.Transfer.ID)
		if !direct && !transfer && (r.s.Consult == nil || r.s.Consult.Helper != "") {
			return fmt.Errorf("%w: nobody is being consulted in call %s", ErrInvalidState, r.s.ID)
		}
		if r.s.Assist {
			return ErrWrapupAssist // R14
		}
		if len(r.s.Parties) >= MaxParties {
			return ErrConferenceFull // R10
		}
		if !direct && !transfer {
			r.s.Consult.Helper = id
		}
		if transfer {
			r.s.Phase, r.s.Transfer = PhaseConnected, nil
		}
	default:
		return fmt.Errorf("%w: a %s cannot be a party", ErrForbidden, p.User.Role)
	}
	if p.JoinedAt.IsZero() {
		return fmt.Errorf("%w: join without a time", ErrBadRequest)
	}
	r.s.Parties = append(r.s.Parties, p)
	via := "browser"
	if p.Phone {
		via = "phone"
	}
	r.log(RecPartyJoined, string(id), string(p.As), "name", p.User.Name, "via", via)
	if _, ctl := r.s.controlling(); ctl && len(r.s.Parties) >= 2 && r.s.Phase != PhaseConnected {
		r.s.Phase = PhaseConnected
		r.s.Transfer = nil
	}
	// The party joins the room the call is in now; a move (R5) takes it along with the others. (The
	// other order would join it to the new room twice: once with the move, once for itself.)
	r.emit(JoinRoom{Party: id})
	// R5: an auto call moves to the MCU when a third party is added for help (not for a
	// consultative transfer, which ends with two parties again).
	if len(r.s.Parties) >= 3 && r.s.Mode == ModeAuto && r.s.Media == ModeSFU && (r.s.Consult == nil || !r.s.Consult.Transfer) {
		r.s.Media = ModeMCU
		r.emit(SwitchMedia{To: ModeMCU})
		r.log(RecModeChanged, "", "system", "mode", string(ModeMCU))
	}
	note := r.stopScreenIfNeeded() // R20: a party without video joined
	r.emit(Reroute{}, Publish{Note: note})
	return nil
}

// defaultRole derives a joining party's role when the caller left it to the rules.
func (r *rules) defaultRole(p Party) PartyRole {
	switch {
	case p.User.Role == Customer:
		return AsCustomer
	case p.User.Role == Agent && r.s.Consult != nil && r.s.Consult.Helper == "":
		return AsConferenced
	case p.User.Role == Agent:
		return AsControlling
	}
	return ""
}

func (r *rules) leave(c Leave) error {
	p, err := r.actor(c.Party)
	if err != nil {
		return err
	}
	reason := c.Reason
	if reason == nil {
		reason = ReasonHangup
	}
	i := r.s.index(p.ID())
	r.s.Parties = append(r.s.Parties[:i:i], r.s.Parties[i+1:]...)
	r.emit(LeaveRoom{Party: p.ID(), Reason: reason})
	r.log(RecPartyLeft, string(p.ID()), string(p.As), "reason", reason.Error())
	if p.IsAgent() {
		r.emit(Released{Agent: p.User, Applies: p.As == AsControlling})
	}
	if r.s.Screen == p.ID() {
		r.s.Screen = ""
		r.log(RecScreenShare, string(p.ID()), string(p.As), "state", "stopped", "reason", "left")
	}

	// Waiting calls: the only party left.
	if r.s.Phase == PhaseQueued || r.s.Phase == PhaseRinging {
		if p.As == AsCustomer {
			reason = ReasonAbandoned
		}
		return r.finish(reason, p.ID())
	}
	if r.s.Consult != nil {
		switch {
		case r.s.Consult.Helper == p.ID():
			// R18: the target hung up: the agent is back with the customer.
			r.log(RecConsultEnded, string(p.ID()), string(p.As), "outcome", "helper_left")
			r.s.Consult = nil
			r.resumeAll()
		case r.s.Consult.Helper == "" && (r.s.Consult.By == p.ID() || p.As == AsCustomer):
			r.dropConsult("consulting_party_left") // nobody answered yet: stop the ringing
		case r.s.Consult.By == p.ID() || p.As == AsCustomer:
			// An answered helper stays: R12 passes control to them, or R14 starts wrap-up assist.
			r.log(RecConsultEnded, string(p.ID()), string(p.As), "outcome", "consulting_party_left")
			r.s.Consult = nil
			r.resumeAll()
		}
	}
	if p.As == AsControlling {
		r.passControl() // R12
	}
	// R13: fewer than two parties, or neither the customer nor any agent remains.
	if len(r.s.Parties) < 2 || (r.s.count(AsCustomer) == 0 && !r.s.hasAgent()) {
		return r.finish(reason, p.ID())
	}
	if p.As == AsCustomer && r.s.hasAgent() && !r.s.Assist {
		// R14: the customer left while agents remain.
		r.s.Assist = true
		r.resumeAll()
		r.log(RecWrapupAssist, "", "system")
	}
	// R24: supervisors stop when no agent remains to be monitored.
	if !r.s.hasAgent() {
		for _, w := range r.s.Supervisors {
			r.emit(LeaveRoom{Party: PartyID(w.User.ID), Reason: ReasonHangup})
			r.log(RecSupervisor, w.User.ID, "supervisor", "mode", "stopped", "reason", "no agent remains")
		}
		r.s.Supervisors = nil
	}
	if r.s.talking() < 3 {
		r.s.Conference = r.s.Conference && r.s.talking() >= 3
	}
	r.emit(Reroute{}, Publish{})
	return nil
}

// dropConsult ends a consult whose reason to exist has gone: the ringing stops, or the helper is
// let go, and held parties come back.
func (r *rules) dropConsult(outcome string) {
	c := r.s.Consult
	r.s.Consult = nil
	if c.Helper == "" {
		r.emit(CancelRing{Target: c.Target})
	} else if h, ok := r.s.party(c.Helper); ok {
		i := r.s.index(h.ID())
		r.s.Parties = append(r.s.Parties[:i:i], r.s.Parties[i+1:]...)
		r.emit(LeaveRoom{Party: h.ID(), Reason: ReasonConsultEnded})
		r.log(RecPartyLeft, string(h.ID()), string(h.As), "reason", ReasonConsultEnded.Error())
		if h.IsAgent() {
			r.emit(Released{Agent: h.User})
		}
	}
	r.log(RecConsultEnded, string(c.By), "", "outcome", outcome)
	r.resumeAll()
}

// passControl gives control to the agent who has been in the call longest (R12).
func (r *rules) passControl() {
	best := -1
	for i, q := range r.s.Parties {
		if q.As == AsConferenced && (best < 0 || q.JoinedAt.Before(r.s.Parties[best].JoinedAt)) {
			best = i
		}
	}
	if best < 0 {
		return
	}
	r.s.Parties[best].As = AsControlling
	r.log(RecControlPassed, r.s.Parties[best].User.ID, string(AsControlling))
}

func (r *rules) end(c End) error {
	reason := c.Reason
	if c.By != "" {
		if _, err := r.controller(c.By); err != nil { // R13: the controlling agent ends for everyone
			return err
		}
		reason = ReasonEndedByAgent
	}
	if reason == nil {
		reason = ReasonHangup
	}
	if r.s.Consult != nil && r.s.Consult.Helper == "" {
		r.emit(CancelRing{Target: r.s.Consult.Target})
	}
	return r.finish(reason, c.By)
}

func (r *rules) finish(reason error, by PartyID) error {
	r.s.Phase = PhaseEnded
	// R2: the agents still in the call leave it as it ends, into wrap-up.
	for _, p := range r.s.Parties {
		if p.IsAgent() {
			r.emit(Released{Agent: p.User, Applies: p.As == AsControlling})
		}
	}
	ended := CallEnded{CallID: r.s.ID, Reason: reason.Error(), By: by}
	r.s.Ended = &ended
	r.log(RecCallEnded, string(by), "", "reason", reason.Error())
	r.emit(Finish{Ended: ended, Reason: reason})
	return nil
}

func (r *rules) setMedia(c SetMedia) error {
	p, err := r.actor(c.Party)
	if err != nil {
		return err
	}
	if p.Phone && c.Video {
		return fmt.Errorf("%w: a phone party has no video", ErrInvalidState)
	}
	p.Audio, p.Video = c.Audio, c.Video
	r.set(p)
	r.log(RecMedia, string(p.ID()), string(p.As), "audio", fmt.Sprint(c.Audio), "video", fmt.Sprint(c.Video))
	note := r.stopScreenIfNeeded()         // R20
	r.emit(Reroute{}, Publish{Note: note}) // the MCU shows a plate for a camera turned off (R21)
	return nil
}

func (r *rules) setPhase(c SetPhase) error {
	if r.s.Phase == PhaseConnected || (c.Phase != PhaseQueued && c.Phase != PhaseRinging) {
		return fmt.Errorf("%w: cannot move a %s call to %s", ErrInvalidState, r.s.Phase, c.Phase)
	}
	r.s.Phase = c.Phase
	r.emit(Publish{})
	return nil
}
