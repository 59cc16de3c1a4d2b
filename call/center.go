package call

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"
)

// QueueConfig is one queue: customers who arrive there are offered to agents with its skill.
type QueueConfig struct {
	Name  string
	Skill string
}

// AgentConfig is what the center knows of an agent before they log in.
type AgentConfig struct {
	ID     string
	Skills []string
}

// Config configures a Center.
type Config struct {
	Queues       []QueueConfig // the first is the default queue
	Agents       []AgentConfig // agents not listed have every queue's skill
	OfferTimeout time.Duration // an offer not answered in time sets the agent offline (R1)
}

// Center routes customers to agents (R1) and owns the life of every call. Its state belongs to one
// goroutine; the exported methods hand it closures and wait. Each call then has its own loop.
type Center struct {
	cfg   Config
	clock Clock
	rooms RoomFactory
	log   *slog.Logger

	reqs      chan func()
	done      chan struct{}
	calls     sync.WaitGroup
	closeOnce sync.Once
	closing   bool // owned by the run goroutine: Close has taken its list of calls

	// owned by the run goroutine
	queues map[string]*queue
	agents map[string]*agent
	byCall map[CallID]*entry
	inCall map[string]CallID // user id -> call
	seq    uint64
}

type queue struct {
	cfg     QueueConfig
	waiting []*entry // arrival order
}

type agent struct {
	user      UserRef
	skills    []string // nil: every skill
	state     AgentState
	idleSince time.Time
	n         Notifier
	offered   CallID
	timer     Timer
}

type entry struct {
	loop     *loop
	queue    *queue
	customer UserRef
	n        Notifier
	offered  string          // agent id ringing now
	declined map[string]bool // agents who declined this call
	lastPos  int
}

// Option configures a Center.
type Option func(*Center)

// WithClock injects a clock (tests).
func WithClock(c Clock) Option { return func(x *Center) { x.clock = c } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(x *Center) { x.log = l } }

// NewCenter starts a center; Close stops it.
func NewCenter(cfg Config, rooms RoomFactory, opts ...Option) (*Center, error) {
	if len(cfg.Queues) == 0 {
		return nil, fmt.Errorf("call: at least one queue must be configured")
	}
	if cfg.OfferTimeout <= 0 {
		cfg.OfferTimeout = 30 * time.Second
	}
	c := &Center{
		cfg: cfg, clock: SystemClock{}, rooms: rooms, log: slog.Default(),
		reqs: make(chan func()), done: make(chan struct{}),
		queues: map[string]*queue{}, agents: map[string]*agent{},
		byCall: map[CallID]*entry{}, inCall: map[string]CallID{},
	}
	for _, o := range opts {
		o(c)
	}
	for _, q := range cfg.Queues {
		if q.Name == "" {
			return nil, fmt.Errorf("call: a queue has no name")
		}
		if q.Skill == "" {
			q.Skill = q.Name
		}
		c.queues[q.Name] = &queue{cfg: q}
	}
	go c.run()
	return c, nil
}

func (c *Center) run() {
	for {
		select {
		case f := <-c.reqs:
			f()
		case <-c.done:
			return
		}
	}
}

// do runs f on the center goroutine and returns its error.
func (c *Center) do(ctx context.Context, f func() error) error {
	reply := make(chan error, 1)
	select {
	case c.reqs <- func() { reply <- f() }:
	case <-c.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once accepted, f runs to completion (it never blocks for long) and may write the caller's
	// variables: wait for it even if ctx ends meanwhile.
	return <-reply
}

// post runs f on the center goroutine later; for callers that must not wait (timers, call loops).
func (c *Center) post(f func()) {
	go func() {
		select {
		case c.reqs <- f:
		case <-c.done:
		}
	}()
}

// DefaultQueue is the queue a customer joins when none is named.
func (c *Center) DefaultQueue() string { return c.cfg.Queues[0].Name }

// Enqueue brings a customer into a queue with the endpoint that will carry their media (R1).
func (c *Center) Enqueue(ctx context.Context, u UserRef, queueName string, ep Endpoint, n Notifier) (CallID, error) {
	if u.Role != Customer {
		return "", fmt.Errorf("%w: only a customer joins a queue", ErrForbidden)
	}
	if queueName == "" {
		queueName = c.DefaultQueue()
	}
	var id CallID
	err := c.do(ctx, func() error {
		if c.closing {
			return ErrClosed
		}
		q, ok := c.queues[queueName]
		if !ok {
			return fmt.Errorf("%w: queue %q", ErrNotFound, queueName)
		}
		if cur, busy := c.inCall[u.ID]; busy {
			return fmt.Errorf("%w: already in call %s", ErrInvalidState, cur)
		}
		c.seq++
		id = CallID("c" + strconv.FormatInt(c.clock.Now().UnixMilli(), 36) + "-" + strconv.FormatUint(c.seq, 10))
		room, err := c.rooms(id)
		if err != nil {
			return fmt.Errorf("call: media room: %w", err)
		}
		e := &entry{queue: q, customer: u, n: n, declined: map[string]bool{}}
		e.loop = newLoop(id, q.cfg.Name, room, func(ended CallEnded, parties []Party) {
			c.post(func() { c.ended(ended, parties) })
		}, c.log.With("call", id))
		c.calls.Add(1)
		go func() { defer c.calls.Done(); e.loop.run() }()
		if err := e.loop.submit(ctx, Join{Party: Party{User: u, Audio: true, Video: true, JoinedAt: c.clock.Now()}}, &leg{ep: ep, n: n}); err != nil {
			_ = e.loop.submit(context.Background(), End{Reason: ReasonMediaFailed}, nil)
			return err
		}
		c.byCall[id] = e
		c.inCall[u.ID] = id
		q.waiting = append(q.waiting, e)
		c.log.Info("customer queued", "call", id, "queue", q.cfg.Name, "customer", u.ID)
		c.dispatch()
		return nil
	})
	return id, err
}

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
		case a.state == AgentRinging:
			c.withdraw(a, "agent_offline")
		}
		c.setAgent(a, state)
		c.dispatch()
		return nil
	})
}

// Accept connects an agent to the call they are being offered, with the endpoint for their media.
func (c *Center) Accept(ctx context.Context, u UserRef, id CallID, ep Endpoint, n Notifier) error {
	if u.Role != Agent {
		return fmt.Errorf("%w: only an agent accepts calls", ErrForbidden)
	}
	return c.do(ctx, func() error {
		if c.closing {
			return ErrClosed
		}
		a, ok := c.agents[u.ID]
		e := c.byCall[id]
		if e == nil {
			return fmt.Errorf("%w: call %s", ErrNotFound, id)
		}
		if !ok || a.state != AgentRinging || a.offered != id {
			return fmt.Errorf("%w: call %s is not offered to you", ErrInvalidState, id)
		}
		a.timer.Stop()
		a.n = n
		a.offered = ""
		e.offered = ""
		e.queue.waiting = slices.DeleteFunc(e.queue.waiting, func(x *entry) bool { return x == e })
		c.setAgent(a, AgentBusy)
		c.inCall[u.ID] = id
		if err := e.loop.submit(ctx, Join{Party: Party{User: u, Audio: true, Video: true, JoinedAt: c.clock.Now()}}, &leg{ep: ep, n: n}); err != nil {
			delete(c.inCall, u.ID)
			c.setAgent(a, AgentAvailable)
			return err
		}
		c.log.Info("agent accepted", "call", id, "agent", u.ID)
		c.positions(e.queue)
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
		if !ok || a.state != AgentRinging || a.offered != id {
			return fmt.Errorf("%w: call %s is not offered to you", ErrInvalidState, id)
		}
		if e := c.byCall[id]; e != nil {
			e.declined[a.user.ID] = true
		}
		c.withdraw(a, "declined")
		c.setAgent(a, AgentAvailable)
		c.dispatch()
		return nil
	})
}

// Hangup takes a user out of their call (R11; R13 decides whether the call goes on).
func (c *Center) Hangup(ctx context.Context, u UserRef) error {
	l, err := c.callOf(ctx, u)
	if err != nil {
		return err
	}
	return l.submit(ctx, Leave{Party: PartyID(u.ID), Reason: ReasonHangup}, nil)
}

// SetMedia records what a party is sending (audio and video on or off).
func (c *Center) SetMedia(ctx context.Context, u UserRef, audio, video bool) error {
	l, err := c.callOf(ctx, u)
	if err != nil {
		return err
	}
	return l.submit(ctx, SetMedia{Party: PartyID(u.ID), Audio: audio, Video: video}, nil)
}

// Disconnect is called when a user's client goes away: a ringing offer moves on, an agent goes
// offline, and a party leaves their call.
func (c *Center) Disconnect(u UserRef) {
	_ = c.do(context.Background(), func() error {
		if a, ok := c.agents[u.ID]; ok {
			a.n = nil
			if a.state == AgentRinging {
				c.withdraw(a, "agent_offline")
			}
			if a.state != AgentBusy {
				a.state = AgentOffline
			}
			c.dispatch()
		}
		if id, ok := c.inCall[u.ID]; ok {
			c.byCall[id].loop.post(Leave{Party: PartyID(u.ID), Reason: ReasonDisconnected})
		}
		return nil
	})
}

// Close ends every call (reason shutdown), waits for their loops and stops the center. Calling it
// again does nothing.
func (c *Center) Close() { c.closeOnce.Do(c.close) }

func (c *Center) close() {
	var loops []*loop
	if c.do(context.Background(), func() error {
		c.closing = true
		for _, e := range c.byCall {
			loops = append(loops, e.loop)
		}
		return nil
	}) != nil {
		return
	}
	for _, l := range loops {
		_ = l.submit(context.Background(), End{Reason: ReasonShutdown}, nil)
	}
	c.calls.Wait()
	close(c.done)
}

func (c *Center) callOf(ctx context.Context, u UserRef) (*loop, error) {
	var l *loop
	err := c.do(ctx, func() error {
		id, ok := c.inCall[u.ID]
		if !ok {
			return fmt.Errorf("%w: you are not in a call", ErrInvalidState)
		}
		l = c.byCall[id].loop
		return nil
	})
	return l, err
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

// withdraw cancels the offer ringing at agent a; the call goes back to waiting.
func (c *Center) withdraw(a *agent, reason string) {
	id := a.offered
	a.offered = ""
	if a.timer != nil {
		a.timer.Stop()
	}
	if a.n != nil {
		a.n.Notify(OfferWithdrawn{CallID: id, Reason: reason})
	}
	if e := c.byCall[id]; e != nil {
		e.offered = ""
		_ = e.loop.submit(context.Background(), SetPhase{Phase: PhaseQueued}, nil)
	}
}

// dispatch offers waiting customers, oldest first, to the longest-idle available agent with the
// queue's skill (R1).
func (c *Center) dispatch() {
	if c.closing {
		return
	}
	// Queues in configured order, so a multi-skilled agent's work is predictable.
	for _, qc := range c.cfg.Queues {
		q := c.queues[qc.Name]
		for _, e := range q.waiting {
			if e.offered != "" {
				continue
			}
			a := c.pick(q, e)
			if a == nil {
				continue // every available agent declined this one; the next customer may still be served
			}
			c.offer(a, e)
		}
		c.positions(q)
	}
}

func (c *Center) pick(q *queue, e *entry) *agent {
	var best *agent
	for _, a := range c.agents {
		if a.state != AgentAvailable || a.n == nil || e.declined[a.user.ID] {
			continue
		}
		if a.skills != nil && !slices.Contains(a.skills, q.cfg.Skill) {
			continue
		}
		if best == nil || a.idleSince.Before(best.idleSince) ||
			a.idleSince.Equal(best.idleSince) && a.user.ID < best.user.ID {
			best = a
		}
	}
	return best
}

func (c *Center) offer(a *agent, e *entry) {
	id := e.loop.id // immutable after creation
	e.offered = a.user.ID
	a.offered = id
	c.setAgent(a, AgentRinging)
	a.n.Notify(CallOffered{CallID: id, Queue: e.queue.cfg.Name, Customer: e.customer, Timeout: c.cfg.OfferTimeout})
	a.timer = c.clock.AfterFunc(c.cfg.OfferTimeout, func() {
		c.post(func() {
			if a.state == AgentRinging && a.offered == id {
				c.log.Info("offer not answered; agent set offline", "call", id, "agent", a.user.ID)
				c.withdraw(a, "timeout")
				c.setAgent(a, AgentOffline)
				c.dispatch()
			}
		})
	})
	_ = e.loop.submit(context.Background(), SetPhase{Phase: PhaseRinging}, nil)
	c.log.Info("call offered", "call", id, "agent", a.user.ID)
}

// positions tells each waiting customer their place when it changed.
func (c *Center) positions(q *queue) {
	for i, e := range q.waiting {
		if e.lastPos != i+1 {
			e.lastPos = i + 1
			e.n.Notify(QueuePosition{CallID: e.loop.id, Queue: q.cfg.Name, Position: i + 1})
		}
	}
}

// ended releases what a finished call held: its queue place, a ringing offer, its agents.
func (c *Center) ended(ended CallEnded, parties []Party) {
	e := c.byCall[ended.CallID]
	if e == nil {
		return
	}
	delete(c.byCall, ended.CallID)
	e.queue.waiting = slices.DeleteFunc(e.queue.waiting, func(x *entry) bool { return x == e })
	if e.offered != "" {
		if a := c.agents[e.offered]; a != nil && a.offered == ended.CallID {
			c.withdraw(a, "customer_left")
			c.setAgent(a, AgentAvailable)
		}
	}
	for _, p := range parties {
		delete(c.inCall, p.User.ID)
		if a, ok := c.agents[p.User.ID]; ok && a.state == AgentBusy {
			// Wrap-up (R2) arrives with the full call model; until then the agent is available again,
			// or offline when their client is gone.
			if a.n == nil {
				a.state = AgentOffline
			} else {
				c.setAgent(a, AgentAvailable)
			}
		}
	}
	c.dispatch()
}

// QueueNames lists the configured queues in order.
func (c *Center) QueueNames() []string {
	names := make([]string, len(c.cfg.Queues))
	for i, q := range c.cfg.Queues {
		names[i] = q.Name
	}
	return names
}

// Stats is a snapshot for metrics.
type Stats struct {
	Calls   int // waiting or connected
	Waiting int // in a queue
}

// Stats counts calls now.
func (c *Center) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := c.do(ctx, func() error {
		st.Calls = len(c.byCall)
		for _, q := range c.queues {
			st.Waiting += len(q.waiting)
		}
		return nil
	})
	return st, err
}
