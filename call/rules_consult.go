package call

import "fmt"

func (r *rules) consult(c StartConsult) error {
	p, err := r.controller(c.By) // R7, R8
	if err != nil {
		return err
	}
	if err := r.canAdd(); err != nil {
		return err
	}
	if !c.Transfer && r.s.Mode == ModeSFU {
		return ErrModeMultiparty // R3: help-seeking would lead to a conference
	}
	if err := validTarget(c.Target); err != nil {
		return err
	}
	r.s.Consult = &Consult{Target: c.Target, Transfer: c.Transfer, By: p.ID(), Ringing: c.Target.Kind != TargetNumber}
	purpose := "consult"
	if c.Transfer {
		purpose = "transfer"
	}
	r.log(RecConsultStarted, string(p.ID()), string(p.As), "target_kind", string(c.Target.Kind), "target", c.Target.ID, "purpose", purpose)
	// R9, R15: everyone but the consulting agent waits on hold.
	for i, q := range r.s.Parties {
		if q.ID() != p.ID() && !q.Held {
			r.s.Parties[i].Held = true
			r.log(RecHold, string(p.ID()), string(p.As), "party", string(q.ID()))
		}
	}
	r.emit(Ring{Target: c.Target, Transfer: c.Transfer}, Reroute{}, Publish{})
	return nil
}

// canAdd holds the rules shared by everything that adds a party (R10, R14).
func (r *rules) canAdd() error {
	switch {
	case r.s.Phase != PhaseConnected:
		return fmt.Errorf("%w: the call is not connected", ErrInvalidState)
	case r.s.Assist:
		return ErrWrapupAssist // R14
	case r.s.Consult != nil:
		return fmt.Errorf("%w: a consult is already in progress", ErrInvalidState)
	case len(r.s.Parties) >= MaxParties:
		return ErrConferenceFull // R10
	}
	return nil
}

func validTarget(t Target) error {
	switch t.Kind {
	case TargetAgent, TargetQueue, TargetNumber:
	default:
		return fmt.Errorf("%w: target kind must be agent, queue or number", ErrBadRequest)
	}
	if t.ID == "" || len(t.ID) > 64 {
		return fmt.Errorf("%w: target id must be 1 to 64 characters", ErrBadRequest)
	}
	return nil
}

func (r *rules) consultFailed(c ConsultFailed) error {
	if r.s.Consult == nil || r.s.Consult.Helper != "" {
		return fmt.Errorf("%w: no consult is ringing", ErrInvalidState)
	}
	// R18: the target declined or could not be reached: the agent is back with the customer.
	r.log(RecConsultEnded, "", "system", "outcome", c.Outcome)
	r.s.Consult = nil
	r.resumeAll()
	r.emit(Reroute{}, Publish{Note: "consult_failed: " + c.Outcome})
	return nil
}

func (r *rules) consultRinging(c ConsultRinging) error {
	k := r.s.Consult
	if k == nil || k.Helper != "" || k.Target.Kind != TargetNumber || k.Target.ID != c.Target {
		return fmt.Errorf("%w: no consult is dialling %s", ErrInvalidState, c.Target)
	}
	if k.Ringing {
		return nil
	}
	k.Ringing = true
	r.emit(Publish{})
	return nil
}

// transferFailed puts a customer whose blind transfer to a number failed back in the call's queue:
// the transfer cannot be undone (R17), but the customer is not left waiting for nobody.
func (r *rules) transferFailed(c TransferFailed) error {
	if r.s.Transfer == nil || r.s.Transfer.Kind != TargetNumber || r.s.Phase != PhaseQueued {
		return fmt.Errorf("%w: no transfer to a number is ringing", ErrInvalidState)
	}
	back := Target{Kind: TargetQueue, ID: r.s.Queue}
	r.s.Transfer = &back
	r.log(RecTransferFailed, "", "system", "outcome", c.Outcome, "requeued", r.s.Queue)
	r.emit(Requeue{Target: back}, Publish{Note: "transfer_failed: " + c.Outcome})
	return nil
}

func (r *rules) cancelConsult(c CancelConsult) error {
	if _, err := r.controller(c.By); err != nil {
		return err
	}
	if r.s.Consult == nil {
		return fmt.Errorf("%w: no consult in progress", ErrInvalidState)
	}
	r.dropConsult("cancelled") // R9, R18
	r.emit(Reroute{}, Publish{})
	return nil
}

func (r *rules) conference(c StartConference) error {
	p, err := r.controller(c.By)
	if err != nil {
		return err
	}
	if r.s.Assist {
		return ErrWrapupAssist
	}
	if r.s.Consult == nil || r.s.Consult.Helper == "" {
		return fmt.Errorf("%w: a conference starts from a consult whose helper has answered", ErrInvalidState)
	}
	if r.s.Mode == ModeSFU {
		return ErrModeMultiparty // R3
	}
	r.s.Consult = nil
	r.s.Conference = true
	r.log(RecConferenceStarted, string(p.ID()), string(p.As))
	r.resumeAll()
	if r.s.Media == ModeSFU && r.s.Mode != ModeSFU {
		r.s.Media = ModeMCU // R5 (if the helper's arrival did not already move it)
		r.emit(SwitchMedia{To: ModeMCU})
		r.log(RecModeChanged, "", "system", "mode", string(ModeMCU))
	}
	r.emit(Reroute{}, Publish{})
	return nil
}

func (r *rules) completeTransfer(c CompleteTransfer) error {
	p, err := r.controller(c.By)
	if err != nil {
		return err
	}
	if r.s.Consult == nil || r.s.Consult.Helper == "" {
		return fmt.Errorf("%w: the target has not answered", ErrInvalidState)
	}
	helper, _ := r.s.party(r.s.Consult.Helper)
	target := r.s.Consult.Target
	r.s.Consult = nil
	// R18: the agent drops out, the customer is joined with the target.
	i := r.s.index(p.ID())
	r.s.Parties = append(r.s.Parties[:i:i], r.s.Parties[i+1:]...)
	r.emit(LeaveRoom{Party: p.ID(), Reason: ReasonTransferred}, Released{Agent: p.User, Applies: true})
	r.log(RecTransferred, string(p.ID()), string(p.As), "kind", "consultative", "target_kind", string(target.Kind), "target", target.ID)
	r.log(RecPartyLeft, string(p.ID()), string(p.As), "reason", ReasonTransferred.Error())
	if helper.As == AsConferenced {
		helper.As = AsControlling
		r.set(helper)
		r.log(RecControlPassed, helper.User.ID, string(AsControlling))
	} else {
		r.passControl()
	}
	r.resumeAll()
	if len(r.s.Parties) < 2 {
		return r.finish(ReasonAllLeft, p.ID())
	}
	r.emit(Reroute{}, Publish{})
	return nil
}

func (r *rules) blindTransfer(c BlindTransfer) error {
	p, err := r.controller(c.By)
	if err != nil {
		return err
	}
	switch {
	case r.s.Assist:
		return ErrWrapupAssist
	case r.s.Consult != nil:
		return fmt.Errorf("%w: cancel or complete the consult first", ErrInvalidState)
	case r.s.count(AsCustomer) == 0:
		return fmt.Errorf("%w: there is no customer to transfer", ErrInvalidState)
	case len(r.s.Parties) != 2:
		return fmt.Errorf("%w: blind transfer hands over a two-party call", ErrInvalidState)
	}
	if err := validTarget(c.Target); err != nil {
		return err
	}
	// R17: at once and for good: the agent is released, the customer waits for the target.
	i := r.s.index(p.ID())
	r.s.Parties = append(r.s.Parties[:i:i], r.s.Parties[i+1:]...)
	t := c.Target
	r.s.Transfer = &t
	r.s.Phase = PhaseQueued
	r.s.Conference = false
	for i := range r.s.Parties {
		r.s.Parties[i].Held = false
	}
	r.log(RecTransferred, string(p.ID()), string(p.As), "kind", "blind", "target_kind", string(t.Kind), "target", t.ID)
	r.log(RecPartyLeft, string(p.ID()), string(p.As), "reason", ReasonTransferred.Error())
	r.emit(LeaveRoom{Party: p.ID(), Reason: ReasonTransferred}, Released{Agent: p.User, Applies: true},
		Requeue{Target: t}, Reroute{}, Publish{})
	return nil
}

// customerOr names the party a hold or resume means when the client names none: the customer,
// else the first non-agent party.
func (r *rules) customerOr(id PartyID) PartyID {
	if id != "" {
		return id
	}
	for _, q := range r.s.Parties {
		if !q.IsAgent() {
			return q.ID()
		}
	}
	return id
}

func (r *rules) hold(c Hold) error { return r.setHeld(c.By, c.Party, true) }

func (r *rules) resume(c Resume) error { return r.setHeld(c.By, c.Party, false) }

// setHeld puts a party on hold or takes it off (R14, R15, R16).
func (r *rules) setHeld(by, party PartyID, held bool) error {
	p, err := r.agentActor(by)
	if err != nil {
		return err
	}
	t, err := r.actor(r.customerOr(party))
	if err != nil {
		return err
	}
	switch {
	case r.s.Assist:
		return ErrWrapupAssist // R14
	case held && (r.s.Conference || r.s.talking() >= 3):
		return ErrHoldConference // R16
	case t.IsAgent():
		return fmt.Errorf("%w: agents are not put on hold", ErrInvalidState)
	case t.Held == held:
		return fmt.Errorf("%w: %s is already %s", ErrInvalidState, t.ID(), map[bool]string{true: "on hold", false: "off hold"}[held])
	case !held && r.s.Consult != nil:
		return fmt.Errorf("%w: start the conference or cancel the consult to bring the customer back", ErrInvalidState)
	}
	t.Held = held
	r.set(t)
	typ := RecResume
	if held {
		typ = RecHold
	}
	r.log(typ, string(p.ID()), string(p.As), "party", string(t.ID()))
	r.emit(Reroute{}, Publish{})
	return nil
}
