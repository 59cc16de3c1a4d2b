package call

import (
	"context"
	"fmt"
	"slices"
)

// AgentWrapup is the state after a call until a wrap-up reason is given or the queue's wrap-up
// timeout passes (R2).
const AgentWrapup AgentState = "wrapup"

// SetAgentState makes an agent available for calls or takes them offline (R1).
func (c *Center) SetAgentState(ctx context.Context, u UserRef, state AgentState, n Notifier) error {
	if u.Role != Agent {
		return fmt.Errorf("%w: only an agent has an agent state", ErrForbidden)
	}
	if state != AgentAvailable && state != AgentOffline {
		return fmt.Errorf("%w: an agent can only set available or offline", ErrInvalidState)
	}
	return c.do(ctx, func() error {
		a := c.agent(u)
		a.n = n
		switch {
		case a.state == state:
			return nil
		case a.state == AgentBusy:
			return fmt.Errorf("%w: agent is in a call", ErrInvalidState)
		case a.state == AgentWrapup:
			return fmt.Errorf("%w: give a wrap-up reason first (R2)", ErrInvalidState)
		case a.state == AgentRinging:
			c.declineOffer(a, "agent_offline")
		}
		c.setAgent(a, state)
		c.dispatch()
		return nil
	})
}

func (c *Center) agent(u UserRef) *agent {
	a, ok := c.agents[u.ID]
	if !ok {
		a = &agent{user: u, state: AgentOffline}
		for _, ac := range c.cfg.Agents {
			if ac.ID == u.ID {
				a.skills = ac.Skills
			}
		}
		c.agents[u.ID] = a
	}
	a.user = u
	return a
}

func (c *Center) setAgent(a *agent, s AgentState) {
	if s == AgentAvailable && a.state != AgentRinging {
		a.idleSince = c.clock.Now()
	}
	a.state = s
	if a.n != nil {
		a.n.Notify(AgentStateChanged{State: s})
	}
}

// offer rings agent a; an offer not answered in time sets the agent offline (R1).
func (c *Center) offer(a *agent, kind offerKind, id CallID, cb *Callback) {
	c.seq++
	o := &offer{kind: kind, call: id, cb: cb, n: c.seq}
	a.offer = o
	c.setAgent(a, AgentRinging)
	ev := CallOffered{CallID: id, Kind: string(kind), Timeout: c.cfg.OfferTimeout}
	if e := c.byCall[id]; e != nil {
		ev.Queue, ev.Customer = e.queue.cfg.Name, e.customer
	}
	if cb != nil {
		ev.Queue, ev.Customer, ev.Callback = cb.Queue, UserRef{ID: cb.Customer, Name: cb.Name, Role: Customer}, cb.ID
	}
	a.n.Notify(ev)
	o.timer = c.clock.AfterFunc(c.cfg.OfferTimeout, func() {
		c.post(func() {
			if a.offer == o {
				c.log.Info("offer not answered; agent set offline", "call", id, "agent", a.user.ID)
				c.declineOffer(a, "timeout")
				c.setAgent(a, AgentOffline)
				c.dispatch()
			}
		})
	})
	c.log.Info("call offered", "call", id, "agent", a.user.ID, "kind", kind)
}

// withdraw stops a's ringing and tells the agent; the caller decides what becomes of the call.
func (c *Center) withdraw(a *agent, reason string) {
	o := a.offer
	if o == nil {
		return
	}
	a.offer = nil
	o.timer.Stop()
	if a.n != nil {
		a.n.Notify(OfferWithdrawn{CallID: o.call, Reason: reason})
	}
}

// declineOffer ends a's ringing because the agent will not take it (declined, timed out, went
// offline): the call moves on to someone else.
func (c *Center) declineOffer(a *agent, reason string) {
	o := a.offer
	if o == nil {
		return
	}
	c.withdraw(a, reason)
	e := c.byCall[o.call]
	switch {
	case o.kind == offerConsult && e != nil && e.consult == a.user.ID:
		e.consult = ""
		e.loop.post(ConsultFailed{Outcome: reason}) // R18: the agent is back with the customer
	case o.kind == offerDirect && e != nil:
		e.loop.post(End{Reason: fmt.Errorf("callee_%s", reason)})
	case o.kind == offerInbound && e != nil && e.offered == a.user.ID:
		e.offered = ""
		e.declined[a.user.ID] = true
		_ = e.loop.submit(context.Background(), SetPhase{Phase: PhaseQueued}, nil)
	case o.kind == offerCallback && o.cb != nil:
		c.callbackNotTaken(o.cb)
	}
}

// Accept answers what is ringing at an agent: a customer, a consult, a direct call or a callback.
func (c *Center) Accept(ctx context.Context, u UserRef, id CallID, ep Endpoint, n Notifier) error {
	if u.Role != Agent {
		return fmt.Errorf("%w: only an agent accepts calls", ErrForbidden)
	}
	return c.do(ctx, func() error {
		if c.closing {
			return ErrClosed
		}
		a, ok := c.agents[u.ID]
		if !ok || a.state != AgentRinging || a.offer == nil || a.offer.call != id {
			if _, exists := c.byCall[id]; !exists && (a == nil || a.offer == nil || a.offer.cb == nil) {
				return fmt.Errorf("%w: call %s", ErrNotFound, id)
			}
			return fmt.Errorf("%w: call %s is not offered to you", ErrInvalidState, id)
		}
		o := a.offer
		if o.kind == offerCallback {
			return c.acceptCallback(ctx, a, o, ep, n)
		}
		e := c.byCall[id]
		if e == nil {
			return fmt.Errorf("%w: call %s", ErrNotFound, id)
		}
		o.timer.Stop()
		a.offer = nil
		a.n = n
		as := AsControlling
		switch o.kind {
		case offerConsult:
			as, e.consult = AsConferenced, ""
		case offerDirect:
			as = AsConferenced
		default:
			e.offered, e.only = "", ""
			c.unqueue(e)
		}
		c.setAgent(a, AgentBusy)
		c.inCall[u.ID] = id
		party := Party{User: u, As: as, Audio: true, Video: true, JoinedAt: c.clock.Now()}
		if err := e.loop.submit(ctx, Join{Party: party}, &leg{ep: ep, n: n}); err != nil {
			delete(c.inCall, u.ID)
			c.setAgent(a, AgentAvailable)
			if o.kind == offerConsult {
				e.loop.post(ConsultFailed{Outcome: "join_failed"})
			}
			return err
		}
		c.log.Info("agent accepted", "call", id, "agent", u.ID, "kind", o.kind)
		return nil
	})
}

// Decline refuses an offered call; it goes to the next available agent.
func (c *Center) Decline(ctx context.Context, u UserRef, id CallID) error {
	if u.Role != Agent {
		return fmt.Errorf("%w: only an agent declines calls", ErrForbidden)
	}
	return c.do(ctx, func() error {
		a, ok := c.agents[u.ID]
		if !ok || a.state != AgentRinging || a.offer == nil || a.offer.call != id {
			return fmt.Errorf("%w: call %s is not offered to you", ErrInvalidState, id)
		}
		c.declineOffer(a, "declined")
		c.setAgent(a, AgentAvailable)
		c.dispatch()
		return nil
	})
}

// Disconnect is called when a user's client goes away: a ringing offer moves on, an agent goes
// offline, and a party (or supervisor) leaves their call.
func (c *Center) Disconnect(u UserRef) {
	_ = c.do(context.Background(), func() error {
		if a, ok := c.agents[u.ID]; ok {
			a.n = nil
			if a.state == AgentRinging {
				c.declineOffer(a, "agent_offline")
			}
			if a.state != AgentBusy {
				a.state = AgentOffline
			}
			c.dispatch()
		}
		if id, ok := c.inCall[u.ID]; ok {
			l := c.byCall[id].loop
			if u.Role == Supervisor {
				l.post(StopMonitor{Supervisor: u.ID})
			} else {
				l.post(Leave{Party: PartyID(u.ID), Reason: ReasonDisconnected})
			}
		}
		return nil
	})
}

// released puts an agent who left a call into wrap-up (R2).
func (c *Center) released(l *loop, queue string, r Released) {
	id := l.id
	delete(c.inCall, r.Agent.ID)
	a, ok := c.agents[r.Agent.ID]
	if !ok || a.state != AgentBusy {
		return
	}
	q := c.queues[queue]
	w := &wrapup{call: id, loop: l, queue: queue, applies: r.Applies}
	w.timer = c.clock.AfterFunc(q.cfg.WrapupTimeout, func() {
		c.post(func() {
			if a.wrap == w {
				c.finishWrapup(a, "", true)
				c.dispatch()
			}
		})
	})
	a.wrap = w
	c.setAgent(a, AgentWrapup)
	if a.n != nil {
		a.n.Notify(WrapupStarted{CallID: id, Queue: queue, Reasons: q.cfg.WrapupReasons, Timeout: q.cfg.WrapupTimeout, Applies: r.Applies})
	}
}

// Wrapup ends an agent's wrap-up with a reason from the queue's list (R2, R27).
func (c *Center) Wrapup(ctx context.Context, u UserRef, reason string) error {
	if u.Role != Agent {
		return fmt.Errorf("%w: only agents wrap up", ErrForbidden)
	}
	return c.do(ctx, func() error {
		a, ok := c.agents[u.ID]
		if !ok || a.wrap == nil {
			return fmt.Errorf("%w: you are not in wrap-up", ErrInvalidState)
		}
		q := c.queues[a.wrap.queue]
		if reason == "" || len(q.cfg.WrapupReasons) > 0 && !slices.Contains(q.cfg.WrapupReasons, reason) {
			return fmt.Errorf("%w: %q (queue %s allows %v)", ErrWrapupReason, reason, q.cfg.Name, q.cfg.WrapupReasons)
		}
		if err := c.finishWrapup(a, reason, false); err != nil {
			return err
		}
		c.dispatch()
		return nil
	})
}

// finishWrapup records the wrap-up in the call's log and makes the agent available.
func (c *Center) finishWrapup(a *agent, reason string, timedOut bool) error {
	w := a.wrap
	data := map[string]string{"reason": reason, "applies_to_call": fmt.Sprint(w.applies), "timed_out": fmt.Sprint(timedOut)}
	if err := c.appendRecord(w.loop, Log{Type: RecWrapup, Actor: a.user.ID, Role: string(Agent), Data: data}); err != nil {
		return err
	}
	w.timer.Stop()
	a.wrap = nil
	if a.n == nil {
		a.state = AgentOffline // their client went away during wrap-up
	} else {
		c.setAgent(a, AgentAvailable)
	}
	return nil
}

// appendRecord adds a record to a call's log through the call's loop, which owns the sequence. Once
// the loop has ended (its end may not have reached the center yet, and agents' releases and the end
// reach it in any order) nothing but the center goroutine touches the loop: it appends after the
// call's last record itself.
func (c *Center) appendRecord(l *loop, rec Log) error {
	err := l.submit(context.Background(), logCmd{rec}, nil)
	if err == nil {
		return nil
	}
	select {
	case <-l.done:
	default:
		return err
	}
	if err := l.record(rec.Type, rec.Actor, rec.Role, rec.Data); err != nil {
		return fmt.Errorf("%w: wrap-up not recorded: %v", ErrInvalidState, err)
	}
	return nil
}

// logCmd appends a record through the call's loop without changing the call.
type logCmd struct{ rec Log }

func (logCmd) command() {}
