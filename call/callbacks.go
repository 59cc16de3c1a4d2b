package call

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// callbackRetry is how long a due callback waits when nobody can take it now.
const callbackRetry = 30 * time.Second

// ScheduleCallback schedules a call back to a customer (R30): personal when cb.Agent is set (it
// must be the scheduling agent), else to cb.Queue.
func (c *Center) ScheduleCallback(ctx context.Context, u UserRef, cb Callback) (Callback, error) {
	if u.Role != Agent {
		return cb, fmt.Errorf("%w: only agents schedule callbacks", ErrForbidden)
	}
	if c.store == nil {
		return cb, fmt.Errorf("%w: callbacks need a store", ErrInvalidState)
	}
	if cb.Agent != "" && cb.Agent != u.ID {
		return cb, fmt.Errorf("%w: a personal callback is for yourself", ErrForbidden)
	}
	if cb.Agent == "" {
		if _, ok := c.queues[cb.Queue]; !ok {
			return cb, fmt.Errorf("%w: queue %q", ErrNotFound, cb.Queue)
		}
	}
	if cb.Customer == "" && cb.Number == "" {
		return cb, fmt.Errorf("%w: a callback needs a customer or a number", ErrBadRequest)
	}
	if cb.Due.IsZero() || len(cb.Reason) > 200 {
		return cb, fmt.Errorf("%w: a callback needs a due time and a reason under 200 characters", ErrBadRequest)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	cb.ID = "cb-" + hex.EncodeToString(b)
	cb.State, cb.CreatedBy, cb.CreatedAt = CallbackScheduled, u.ID, c.clock.Now()
	if err := c.store.SaveCallback(ctx, cb); err != nil {
		return cb, fmt.Errorf("call: saving callback: %w", err)
	}
	c.post(func() { c.arm(cb) })
	return cb, nil
}

// Callbacks lists callbacks: an agent sees their personal ones and their queues'; supervisors and
// admins see all.
func (c *Center) Callbacks(ctx context.Context, u UserRef, f CallbackFilter) ([]Callback, error) {
	if u.Role == Customer {
		return nil, fmt.Errorf("%w: customers have no agenda", ErrForbidden)
	}
	if c.store == nil {
		return nil, nil
	}
	all, err := c.store.Callbacks(ctx, f)
	if err != nil || u.Role != Agent {
		return all, err
	}
	out := all[:0]
	for _, cb := range all {
		if cb.Agent == u.ID || cb.Agent == "" {
			out = append(out, cb)
		}
	}
	return out, nil
}

// MoveCallback changes a scheduled callback's due time (R30).
func (c *Center) MoveCallback(ctx context.Context, u UserRef, id string, due time.Time) error {
	return c.editCallback(ctx, u, id, func(cb *Callback) error {
		if due.IsZero() {
			return fmt.Errorf("%w: a due time is required", ErrBadRequest)
		}
		cb.Due = due
		return nil
	})
}

// CancelCallback cancels a scheduled callback (R30).
func (c *Center) CancelCallback(ctx context.Context, u UserRef, id string) error {
	return c.editCallback(ctx, u, id, func(cb *Callback) error { cb.State = CallbackCancelled; return nil })
}

func (c *Center) editCallback(ctx context.Context, u UserRef, id string, edit func(*Callback) error) error {
	if u.Role != Agent && u.Role != Supervisor && u.Role != Admin {
		return fmt.Errorf("%w: only agents and supervisors manage callbacks", ErrForbidden)
	}
	if c.store == nil {
		return fmt.Errorf("%w: callback %s", ErrNotFound, id)
	}
	return c.do(ctx, func() error {
		cb, err := c.store.Callback(ctx, id)
		if err != nil {
			return err
		}
		if u.Role == Agent && cb.Agent != "" && cb.Agent != u.ID {
			return fmt.Errorf("%w: another agent's personal callback", ErrForbidden)
		}
		if cb.State != CallbackScheduled {
			return fmt.Errorf("%w: callback is %s", ErrInvalidState, cb.State)
		}
		if err := edit(&cb); err != nil {
			return err
		}
		if err := c.store.SaveCallback(ctx, cb); err != nil {
			return err
		}
		c.arm(cb)
		return nil
	})
}

// scheduleCallbacks arms a timer for every scheduled callback (they survive a restart, R30).
func (c *Center) scheduleCallbacks() {
	if c.store == nil {
		return
	}
	cbs, err := c.store.Callbacks(context.Background(), CallbackFilter{State: CallbackScheduled, Limit: 10000})
	if err != nil {
		c.log.Error("loading callbacks", "err", err)
		return
	}
	c.post(func() {
		for _, cb := range cbs {
			c.arm(cb)
		}
	})
}

// arm (re)sets the timer of one callback, on the center goroutine.
func (c *Center) arm(cb Callback) {
	if t := c.cbTimer[cb.ID]; t != nil {
		t.Stop()
		delete(c.cbTimer, cb.ID)
	}
	if cb.State != CallbackScheduled || c.closing {
		return
	}
	d := cb.Due.Sub(c.clock.Now())
	c.cbTimer[cb.ID] = c.clock.AfterFunc(max(d, 0), func() { c.post(func() { c.callbackDue(cb.ID) }) })
}

// callbackDue offers a due callback like a call: to its agent, or to the queue's longest-idle agent.
func (c *Center) callbackDue(id string) {
	delete(c.cbTimer, id)
	cb, err := c.store.Callback(context.Background(), id)
	if err != nil || cb.State != CallbackScheduled {
		return
	}
	var a *agent
	if cb.Agent != "" {
		if x := c.agents[cb.Agent]; x != nil && x.state == AgentAvailable && x.n != nil {
			a = x
		}
	} else if q := c.queues[cb.Queue]; q != nil {
		a = c.pick(q.cfg.Skill, nil)
	}
	if a == nil {
		cb.Due = c.clock.Now().Add(callbackRetry)
		c.arm(cb)
		return
	}
	cb.State = CallbackOffered
	if err := c.store.SaveCallback(context.Background(), cb); err != nil {
		c.log.Error("saving callback", "err", err)
		return
	}
	c.offer(a, offerCallback, CallID("callback:"+cb.ID), &cb)
}

// callbackNotTaken puts an offered callback back on the schedule.
func (c *Center) callbackNotTaken(cb *Callback) {
	cb.State = CallbackScheduled
	cb.Due = c.clock.Now().Add(callbackRetry)
	if err := c.store.SaveCallback(context.Background(), *cb); err != nil {
		c.log.Error("saving callback", "err", err)
		return
	}
	c.arm(*cb)
}

// acceptCallback starts the call back: a phone customer is dialled (R30); a browser customer
// cannot be reached without the gateway's equivalent for browsers, so the callback is refused and
// stays scheduled.
func (c *Center) acceptCallback(ctx context.Context, a *agent, o *offer, ep Endpoint, n Notifier) error {
	cb := o.cb
	if cb.Number == "" || c.dialer == nil {
		c.withdraw(a, "unreachable")
		c.callbackNotTaken(cb)
		c.setAgent(a, AgentAvailable)
		if cb.Number == "" {
			return fmt.Errorf("%w: the customer has no number to dial", ErrInvalidState)
		}
		return ErrNoGateway
	}
	o.timer.Stop()
	a.offer = nil
	q := c.queues[cb.Queue]
	if q == nil {
		q = c.queues[c.DefaultQueue()]
	}
	e, err := c.newCall(ctx, q, UserRef{ID: "tel:" + cb.Number, Name: cb.Name, Role: Customer}, "callback", n)
	if err != nil {
		return err
	}
	if err := e.loop.submit(ctx, Join{Party: Party{User: a.user, As: AsControlling, Audio: true, Video: true, JoinedAt: c.clock.Now()}}, &leg{ep: ep, n: n}); err != nil {
		return err
	}
	c.setAgent(a, AgentBusy)
	c.inCall[a.user.ID] = e.loop.id
	cb.State = CallbackDone
	_ = c.store.SaveCallback(ctx, *cb)
	c.dialCustomer(e, cb.Number)
	return nil
}
