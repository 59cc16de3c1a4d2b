package call

import (
	"context"
	"errors"
	"fmt"
)

const settingMode = "video_mode"

// Hangup takes a user out of their call (R11; R12 and R13 decide whether the call goes on). It is
// idempotent: a browser that closes its connection first may see its call end before its hangup
// arrives, and hanging up a call that already ended is not an error.
func (c *Center) Hangup(ctx context.Context, u UserRef) error {
	l, err := c.callOf(ctx, u)
	if err != nil {
		return nil
	}
	if u.Role == Supervisor {
		err = l.submit(ctx, StopMonitor{Supervisor: u.ID}, nil)
	} else {
		err = l.submit(ctx, Leave{Party: PartyID(u.ID), Reason: ReasonHangup}, nil)
	}
	if errors.Is(err, ErrInvalidState) || errors.Is(err, ErrNotFound) {
		return nil // the leg or the call ended meanwhile
	}
	return err
}

// SetMedia records what a party is sending (audio and video on or off).
func (c *Center) SetMedia(ctx context.Context, u UserRef, audio, video bool) error {
	return c.Control(ctx, u, SetMedia{Party: PartyID(u.ID), Audio: audio, Video: video})
}

// Control applies a call control of the user's call. cmd's By field must be the user: the caller
// builds it from the authenticated user, never from what a client claims.
func (c *Center) Control(ctx context.Context, u UserRef, cmd Command) error {
	if u.Role != Customer && u.Role != Agent {
		return fmt.Errorf("%w: a %s has no call controls", ErrForbidden, u.Role)
	}
	l, err := c.callOf(ctx, u)
	if err != nil {
		return err
	}
	return l.submit(ctx, cmd, nil)
}

// Consult seeks help from an agent, a skill queue or a number (R8), or starts a consultative
// transfer (R18). Availability is checked first so the agent hears at once why nobody rings.
func (c *Center) Consult(ctx context.Context, u UserRef, t Target, transfer bool) error {
	if u.Role != Agent {
		return fmt.Errorf("%w: only agents seek help (R7)", ErrForbidden)
	}
	return c.toTarget(ctx, u, t, StartConsult{By: PartyID(u.ID), Target: t, Transfer: transfer})
}

// BlindTransfer hands the customer to an agent, a queue or a number at once (R17).
func (c *Center) BlindTransfer(ctx context.Context, u UserRef, t Target) error {
	if u.Role != Agent {
		return fmt.Errorf("%w: only agents transfer (R7)", ErrForbidden)
	}
	return c.toTarget(ctx, u, t, BlindTransfer{By: PartyID(u.ID), Target: t})
}

// toTarget applies a command that reaches out to t. The call's rules speak first (R3, R7, R8,
// R14): a refusal they give is the real reason, before whether t can be reached now.
func (c *Center) toTarget(ctx context.Context, u UserRef, t Target, cmd Command) error {
	var l *loop
	err := c.do(ctx, func() (err error) {
		if l, err = c.loopOf(u); err != nil {
			return err
		}
		if err := l.check(ctx, cmd); err != nil {
			return err
		}
		if _, blind := cmd.(BlindTransfer); blind {
			switch t.Kind {
			case TargetQueue: // R17: the customer is handed over at once and waits in that queue
				if _, ok := c.queues[t.ID]; !ok {
					return fmt.Errorf("%w: queue %q", ErrNotFound, t.ID)
				}
				return nil
			case TargetNumber: // dialled by the gateway once the agent is released
				if c.dialer == nil {
					return ErrNoGateway
				}
				return nil
			}
		}
		return c.reachable(t, u.ID)
	})
	if err != nil {
		return err
	}
	return l.submit(ctx, cmd, nil)
}

// reachable checks a target before a call control commits to it.
func (c *Center) reachable(t Target, self string) error {
	switch t.Kind {
	case TargetAgent:
		a, ok := c.agents[t.ID]
		if t.ID == self {
			return fmt.Errorf("%w: that is you", ErrBadRequest)
		}
		if !ok || a.state != AgentAvailable || a.n == nil {
			return fmt.Errorf("%w: %s", ErrAgentBusy, t.ID)
		}
	case TargetQueue:
		q, ok := c.queues[t.ID]
		if !ok {
			return fmt.Errorf("%w: queue %q", ErrNotFound, t.ID)
		}
		if c.pick(q.cfg.Skill, map[string]bool{self: true}) == nil {
			return fmt.Errorf("%w: in queue %s", ErrNoAgent, t.ID)
		}
	case TargetNumber:
		if c.dialer == nil {
			return ErrNoGateway
		}
	default:
		return fmt.Errorf("%w: target kind must be agent, queue or number", ErrBadRequest)
	}
	return nil
}

// ring reaches a consult target (the Ring effect).
func (c *Center) ring(id CallID, r Ring) {
	e := c.byCall[id]
	if e == nil {
		return
	}
	var a *agent
	switch r.Target.Kind {
	case TargetAgent:
		if x := c.agents[r.Target.ID]; x != nil && x.state == AgentAvailable && x.n != nil {
			a = x
		}
	case TargetQueue:
		if q := c.queues[r.Target.ID]; q != nil {
			skip := map[string]bool{}
			for uid, cid := range c.inCall {
				skip[uid] = cid == id
			}
			a = c.pick(q.cfg.Skill, skip) // R8: the longest-idle available agent of that skill
		}
	case TargetNumber:
		c.dialConsult(e, r.Target.ID)
		return
	}
	if a == nil {
		e.loop.post(ConsultFailed{Outcome: "no_agent_available"})
		return
	}
	e.consult = a.user.ID
	c.offer(a, offerConsult, id, nil)
}

// dialConsult calls an external number for a consult; the callee joins as a non-agent participant.
func (c *Center) dialConsult(e *entry, number string) {
	if c.dialer == nil {
		e.loop.post(ConsultFailed{Outcome: "gateway_unavailable"})
		return
	}
	e.dialCancel = c.dialInto(e.loop, number, AsParticipant, ConsultRinging{Target: number}, func(err error) Command { return ConsultFailed{Outcome: err.Error()} })
}

// dialInto calls number through the gateway and joins the callee to the call as role as; ringing
// (nil: nothing) is posted to the call when the number rings; when the dial fails, failed says what
// the call does about it. The dial runs in its own goroutine: the center never waits on the
// network. Calling the returned func gives up while it rings.
func (c *Center) dialInto(l *loop, number string, as PartyRole, ringing Command, failed func(error) Command) context.CancelFunc {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.OfferTimeout)
	var alerted func()
	if ringing != nil {
		alerted = func() { l.post(ringing) }
	}
	go func() {
		defer cancel()
		ep, err := c.dialer.Dial(ctx, number, alerted)
		if err != nil {
			l.post(failed(err))
			return
		}
		u := UserRef{ID: "tel:" + number, Name: number, Role: Customer}
		party := Party{User: u, As: as, Phone: true, Audio: true, JoinedAt: c.clock.Now()}
		if err := l.submit(context.Background(), Join{Party: party}, &leg{ep: ep, n: silentNotifier{}}); err != nil {
			_ = ep.Close(err)
		}
	}()
	return cancel
}

type silentNotifier struct{}

func (silentNotifier) Notify(Event) {}

// cancelRing withdraws a consult that is still ringing (R9, R18).
func (c *Center) cancelRing(id CallID) {
	e := c.byCall[id]
	if e == nil {
		return
	}
	if e.dialCancel != nil {
		e.dialCancel() // a number still ringing: the gateway sends CANCEL
		e.dialCancel = nil
	}
	if e.consult == "" {
		return
	}
	if a := c.agents[e.consult]; a != nil && a.offer != nil && a.offer.call == id {
		c.withdraw(a, "consult_cancelled")
		c.setAgent(a, AgentAvailable)
	}
	e.consult = ""
	c.dispatch()
}

// requeue puts a blind-transferred customer in front of its target (R17).
func (c *Center) requeue(id CallID, t Target) {
	e := c.byCall[id]
	if e == nil {
		return
	}
	switch t.Kind {
	case TargetQueue:
		if q := c.queues[t.ID]; q != nil {
			e.queue = q
		}
	case TargetAgent:
		e.only = t.ID
	case TargetNumber:
		if c.dialer != nil {
			// R17 to a number: the customer waits (hearing music) while the number rings, and is
			// joined with whoever answers; if nobody does, TransferFailed puts them back in their
			// queue rather than leave them waiting for a phone that will not answer.
			e.waiting = false
			e.dialCancel = c.dialInto(e.loop, t.ID, AsParticipant, nil, func(err error) Command { return TransferFailed{Outcome: err.Error()} })
			return
		}
		c.log.Warn("blind transfer to a number needs the SIP gateway", "call", id)
		return
	}
	e.declined = map[string]bool{}
	e.waiting = true
	e.lastPos = 0
	// A transferred customer has waited already: they go first.
	e.queue.waiting = append([]*entry{e}, e.queue.waiting...)
	c.dispatch()
}

// Monitor lets a supervisor watch a call silently, or barge in (R23, R24).
func (c *Center) Monitor(ctx context.Context, u UserRef, id CallID, barge bool, ep Endpoint, n Notifier) error {
	if u.Role != Supervisor {
		return fmt.Errorf("%w: only supervisors monitor calls", ErrForbidden)
	}
	var l *loop
	err := c.do(ctx, func() error {
		e := c.byCall[id]
		if e == nil {
			return fmt.Errorf("%w: call %s", ErrNotFound, id)
		}
		if cur, ok := c.inCall[u.ID]; ok && cur != id {
			return fmt.Errorf("%w: already on call %s", ErrInvalidState, cur)
		}
		l = e.loop
		return nil
	})
	if err != nil {
		return err
	}
	var lg *leg
	if ep != nil {
		lg = &leg{ep: ep, n: n}
	}
	if err := l.submit(ctx, Monitor{Supervisor: u, Barge: barge}, lg); err != nil {
		return err
	}
	return c.do(ctx, func() error { c.inCall[u.ID] = id; return nil })
}

// Dial starts a direct call from an agent to another agent or to a number (R29).
func (c *Center) Dial(ctx context.Context, u UserRef, t Target, ep Endpoint, n Notifier) (CallID, error) {
	if u.Role != Agent {
		return "", fmt.Errorf("%w: only agents place calls", ErrForbidden)
	}
	var id CallID
	err := c.do(ctx, func() error {
		a := c.agent(u)
		if a.state == AgentBusy || a.state == AgentRinging {
			return fmt.Errorf("%w: you are in a call", ErrInvalidState)
		}
		if a.wrap != nil {
			// R2: its timer would make the agent available in the middle of the new call.
			return fmt.Errorf("%w: give a wrap-up reason first (R2)", ErrInvalidState)
		}
		if err := c.reachable(t, u.ID); err != nil {
			return err
		}
		if t.Kind == TargetQueue {
			return fmt.Errorf("%w: dial an agent or a number", ErrBadRequest)
		}
		e, err := c.newCall(ctx, c.queues[c.DefaultQueue()], UserRef{}, "direct", n)
		if err != nil {
			return err
		}
		id = e.loop.id
		if err := e.loop.submit(ctx, Join{Party: Party{User: u, As: AsControlling, Audio: true, Video: true, JoinedAt: c.clock.Now()}}, &leg{ep: ep, n: n}); err != nil {
			return err
		}
		a.n = n
		c.setAgent(a, AgentBusy)
		c.inCall[u.ID] = id
		_ = e.loop.submit(ctx, SetPhase{Phase: PhaseRinging}, nil)
		if t.Kind == TargetAgent {
			c.offer(c.agents[t.ID], offerDirect, id, nil)
			return nil
		}
		c.dialCustomer(e, t.ID)
		return nil
	})
	return id, err
}

// dialCustomer calls a number whose callee becomes the customer of the call (R29, R30).
func (c *Center) dialCustomer(e *entry, number string) {
	// Kept on the entry: an agent who hangs up while it rings ends the call, and ended() stops the
	// ringing (CANCEL) instead of letting it ring out.
	e.dialCancel = c.dialInto(e.loop, number, AsCustomer, nil, func(err error) Command { return End{Reason: fmt.Errorf("dial_failed: %v", err)} })
}

// VideoMode is the service's video mode (R3-R6).
func (c *Center) VideoMode(ctx context.Context) (Mode, error) {
	var m Mode
	err := c.do(ctx, func() error { m = c.mode; return nil })
	return m, err
}

// SetVideoMode changes the video mode for calls that start afterwards (R6); admins only.
func (c *Center) SetVideoMode(ctx context.Context, u UserRef, m Mode) error {
	if u.Role != Admin {
		return fmt.Errorf("%w: only admins change the video mode", ErrForbidden)
	}
	if !m.Valid() {
		return fmt.Errorf("%w: mode must be sfu, mcu or auto", ErrBadRequest)
	}
	return c.do(ctx, func() error {
		if c.store != nil {
			if err := c.store.SetSetting(ctx, settingMode, string(m)); err != nil {
				return fmt.Errorf("call: saving video mode: %w", err)
			}
		}
		c.log.Info("video mode changed", "mode", m, "by", u.ID)
		c.mode = m
		return nil
	})
}
