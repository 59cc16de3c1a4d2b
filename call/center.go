package call

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"
)

// QueueConfig is one queue: customers who arrive there are offered to agents with its skill.
type QueueConfig struct {
	Name          string
	Skill         string
	WrapupReasons []string      // R27: the reasons an agent may choose after a call of this queue
	WrapupTimeout time.Duration // R2: wrap-up ends by itself after this long (0: 60 s)
	AutoRecord    bool          // R26: calls of this queue are recorded from the start
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
	Mode         Mode          // the video mode until an admin changes it (R6); default sfu
}

// Dialer reaches external numbers (the SIP gateway). Without one, numbers are refused.
type Dialer interface {
	// Dial returns the callee's endpoint once it answers. ringing, if not nil, is called (from any
	// goroutine, at most once) when the callee is alerted (SIP 180 or 183), so the agent sees the
	// difference between a number that rings and one the network is still trying.
	Dial(ctx context.Context, number string, ringing func()) (Endpoint, error)
}

// Center routes customers to agents (R1) and owns the life of every call. Its state belongs to one
// goroutine; the exported methods hand it closures and wait. Each call then has its own loop.
type Center struct {
	cfg       Config
	clock     Clock
	rooms     RoomFactory
	recorders RecorderFactory
	store     Store
	dialer    Dialer
	log       *slog.Logger

	reqs      chan func()
	inbox     chan func() // posts, in order
	done      chan struct{}
	calls     sync.WaitGroup
	closeOnce sync.Once

	// owned by the run goroutine
	closing bool
	mode    Mode
	queues  map[string]*queue
	agents  map[string]*agent
	byCall  map[CallID]*entry
	inCall  map[string]CallID // user id (party or supervisor) -> call
	seq     uint64
	cbTimer map[string]Timer
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
	offer     *offer
	wrap      *wrapup
}

// offerKind is why an agent's phone rings.
type offerKind string

const (
	offerInbound  offerKind = "inbound"  // a customer from a queue (or transferred to this agent)
	offerConsult  offerKind = "consult"  // help-seeking or consultative transfer (R8, R18)
	offerDirect   offerKind = "direct"   // another agent calls (R29)
	offerCallback offerKind = "callback" // a callback is due (R30)
)

type offer struct {
	kind  offerKind
	call  CallID
	cb    *Callback
	timer Timer
	n     uint64 // distinguishes offers of the same call to the same agent
}

type wrapup struct {
	call    CallID
	loop    *loop // the call's loop: its wrap-up record goes into the call's log (R25, R27)
	queue   string
	applies bool // the controlling agent's reason is the call's (R27)
	timer   Timer
}

type entry struct {
	loop     *loop
	queue    *queue
	customer UserRef
	n        Notifier
	waiting  bool            // in its queue
	offered  string          // agent ringing for this customer now
	only     string          // a transfer to a named agent: offer only to them (R17)
	consult  string          // agent ringing for a consult of this call
	declined map[string]bool // agents who declined this call
	lastPos  int

	// dialCancel gives up the number a consult dials (cancelRing); set on the center goroutine.
	dialCancel context.CancelFunc
}

// Option configures a Center.
type Option func(*Center)

// WithClock injects a clock (tests).
func WithClock(c Clock) Option { return func(x *Center) { x.clock = c } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(x *Center) { x.log = l } }

// WithStore persists call records, callbacks and the video mode (R25, R30, R6).
func WithStore(s Store) Option { return func(x *Center) { x.store = s } }

// WithDialer lets calls reach external numbers.
func WithDialer(d Dialer) Option { return func(x *Center) { x.dialer = d } }

// NewCenter starts a center; Close stops it. With a store, calls a previous run left unfinished
// are closed as ended by server restart (R25) and due callbacks are scheduled (R30).
func NewCenter(cfg Config, rooms RoomFactory, opts ...Option) (*Center, error) {
	if len(cfg.Queues) == 0 {
		return nil, fmt.Errorf("call: at least one queue must be configured")
	}
	if cfg.OfferTimeout <= 0 {
		cfg.OfferTimeout = 30 * time.Second
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeSFU
	}
	if !cfg.Mode.Valid() {
		return nil, fmt.Errorf("call: unknown video mode %q", cfg.Mode)
	}
	c := &Center{
		cfg: cfg, clock: SystemClock{}, rooms: rooms, log: slog.Default(), mode: cfg.Mode,
		reqs: make(chan func()), inbox: make(chan func(), 4096), done: make(chan struct{}),
		queues: map[string]*queue{}, agents: map[string]*agent{},
		byCall: map[CallID]*entry{}, inCall: map[string]CallID{},
		cbTimer: map[string]Timer{},
	}
	for _, o := range opts {
		o(c)
	}
	for i, q := range cfg.Queues {
		if q.Name == "" {
			return nil, fmt.Errorf("call: a queue has no name")
		}
		if q.Skill == "" {
			q.Skill = q.Name
		}
		if q.WrapupTimeout <= 0 {
			q.WrapupTimeout = time.Minute
		}
		c.cfg.Queues[i] = q
		c.queues[q.Name] = &queue{cfg: q}
	}
	if err := c.recover(); err != nil {
		return nil, err
	}
	go c.run()
	c.scheduleCallbacks()
	return c, nil
}

// recover closes what a crash left open and loads the persisted video mode.
func (c *Center) recover() error {
	if c.store == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ended, err := c.store.EndUnfinished(ctx, ReasonServerRestart.Error(), c.clock.Now())
	if err != nil {
		return fmt.Errorf("call: recovering unfinished calls: %w", err)
	}
	if len(ended) > 0 {
		c.log.Warn("calls left unfinished by the previous run marked ended", "count", len(ended), "reason", ReasonServerRestart)
	}
	if v, ok, err := c.store.Setting(ctx, settingMode); err != nil {
		return fmt.Errorf("call: reading video mode: %w", err)
	} else if ok && Mode(v).Valid() {
		c.mode = Mode(v)
	}
	return nil
}

func (c *Center) run() {
	for {
		select {
		case f := <-c.reqs:
			f()
		case f := <-c.inbox:
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
// Posts run in the order they were made (a consult's ring before its cancel) unless the inbox is
// full, when the overflow waits in goroutines of its own.
func (c *Center) post(f func()) {
	select {
	case c.inbox <- f:
	default:
		go func() {
			select {
			case c.inbox <- f:
			case <-c.done:
			}
		}()
	}
}

// DefaultQueue is the queue a customer joins when none is named.
func (c *Center) DefaultQueue() string { return c.cfg.Queues[0].Name }

// QueueNames lists the configured queues in order.
func (c *Center) QueueNames() []string {
	names := make([]string, len(c.cfg.Queues))
	for i, q := range c.cfg.Queues {
		names[i] = q.Name
	}
	return names
}

// newCall creates a call and its loop (on the center goroutine). The call_started record is
// written before anything else can happen to the call.
func (c *Center) newCall(ctx context.Context, q *queue, customer UserRef, kind string, n Notifier) (*entry, error) {
	if c.closing {
		return nil, ErrClosed
	}
	c.seq++
	// The random part keeps ids unique across restarts (the store keeps every id ever used).
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	id := CallID("c" + strconv.FormatInt(c.clock.Now().UnixMilli(), 36) + "-" + hex.EncodeToString(rnd[:]) + strconv.FormatUint(c.seq, 10))
	media := c.mode
	if media == ModeAuto {
		media = ModeSFU // R5: auto starts on the SFU
	}
	room, err := c.rooms(id, media)
	if err != nil {
		return nil, fmt.Errorf("call: media room: %w", err)
	}
	st := State{ID: id, Queue: q.cfg.Name, Phase: PhaseQueued, Mode: c.mode, Media: media, Recording: q.cfg.AutoRecord}
	e := &entry{queue: q, customer: customer, n: n, declined: map[string]bool{}}
	e.loop = newLoop(st, room, c.rooms, c.store, c.clock, c.loopHooks(e), c.log.With("call", id))
	e.loop.recorders = c.recorders
	if err := e.loop.record(RecCallStarted, customer.ID, string(customer.Role), map[string]string{
		"queue": q.cfg.Name, "customer": customer.ID, "customer_name": customer.Name, "mode": string(media), "kind": kind,
	}); err != nil {
		_ = room.Close()
		return nil, err
	}
	if q.cfg.AutoRecord {
		_ = e.loop.record(RecRecording, "", "system", map[string]string{"state": "started", "automatic": "true"})
	}
	c.calls.Add(1)
	go func() { defer c.calls.Done(); e.loop.run() }()
	c.byCall[id] = e
	return e, nil
}

func (c *Center) loopHooks(e *entry) hooks {
	return hooks{
		ring:     func(id CallID, r Ring) { c.post(func() { c.ring(id, r) }) },
		cancel:   func(id CallID, r CancelRing) { c.post(func() { c.cancelRing(id) }) },
		requeue:  func(id CallID, r Requeue) { c.post(func() { c.requeue(id, r.Target) }) },
		released: func(id CallID, q string, r Released) { c.post(func() { c.released(e.loop, q, r) }) },
		ended: func(e CallEnded, parties []Party, seq int) {
			c.post(func() { c.ended(e, parties, seq) })
		},
	}
}

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
		q, ok := c.queues[queueName]
		if !ok {
			return fmt.Errorf("%w: queue %q", ErrNotFound, queueName)
		}
		if cur, busy := c.inCall[u.ID]; busy {
			return fmt.Errorf("%w: already in call %s", ErrInvalidState, cur)
		}
		e, err := c.newCall(ctx, q, u, "inbound", n)
		if err != nil {
			return err
		}
		id = e.loop.id
		// A phone (an endpoint with a keypad) is audio only and shown by its number (R21).
		_, phone := ep.(DigitReceiver)
		cust := Party{User: u, As: AsCustomer, Audio: true, Video: !phone, Phone: phone, JoinedAt: c.clock.Now()}
		if err := e.loop.submit(ctx, Join{Party: cust}, &leg{ep: ep, n: n}); err != nil {
			_ = e.loop.submit(context.Background(), End{Reason: ReasonMediaFailed}, nil)
			return err
		}
		c.inCall[u.ID] = id
		e.waiting = true
		q.waiting = append(q.waiting, e)
		c.log.Info("customer queued", "call", id, "queue", q.cfg.Name, "customer", u.ID)
		c.dispatch()
		return nil
	})
	return id, err
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
		for _, t := range c.cbTimer {
			t.Stop()
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

// callOf is the loop of the call u is in.
func (c *Center) callOf(ctx context.Context, u UserRef) (*loop, error) {
	var l *loop
	err := c.do(ctx, func() (err error) {
		l, err = c.loopOf(u)
		return err
	})
	return l, err
}

// loopOf is callOf on the center goroutine.
func (c *Center) loopOf(u UserRef) (*loop, error) {
	id, ok := c.inCall[u.ID]
	if !ok {
		return nil, fmt.Errorf("%w: you are not in a call", ErrInvalidState)
	}
	return c.byCall[id].loop, nil
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
			var a *agent
			if e.only != "" {
				if x := c.agents[e.only]; x != nil && x.state == AgentAvailable && x.n != nil {
					a = x
				}
			} else {
				a = c.pick(q.cfg.Skill, e.declined)
			}
			if a == nil {
				continue // every available agent declined this one; the next customer may still be served
			}
			c.offer(a, offerInbound, e.loop.id, nil)
			e.offered = a.user.ID
			_ = e.loop.submit(context.Background(), SetPhase{Phase: PhaseRinging}, nil)
		}
		c.positions(q)
	}
}

// pick is the longest-idle available agent with skill (R1, R8).
func (c *Center) pick(skill string, skip map[string]bool) *agent {
	var best *agent
	for _, a := range c.agents {
		if a.state != AgentAvailable || a.n == nil || skip[a.user.ID] {
			continue
		}
		if a.skills != nil && !slices.Contains(a.skills, skill) {
			continue
		}
		if best == nil || a.idleSince.Before(best.idleSince) ||
			a.idleSince.Equal(best.idleSince) && a.user.ID < best.user.ID {
			best = a
		}
	}
	return best
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

func (c *Center) unqueue(e *entry) {
	if e.waiting {
		e.waiting = false
		e.queue.waiting = slices.DeleteFunc(e.queue.waiting, func(x *entry) bool { return x == e })
		c.positions(e.queue)
	}
}

// ended releases what a finished call held: its queue place, ringing offers, its users.
func (c *Center) ended(ended CallEnded, parties []Party, seq int) {
	e := c.byCall[ended.CallID]
	if e == nil {
		return
	}
	delete(c.byCall, ended.CallID)
	c.unqueue(e)
	if e.dialCancel != nil {
		e.dialCancel() // a number still ringing for this call (consult or transfer) stops ringing
		e.dialCancel = nil
	}
	for _, id := range []string{e.offered, e.consult} {
		if a := c.agents[id]; a != nil && a.offer != nil && a.offer.call == ended.CallID {
			reason := "customer_left" // the customer gave up while the call rang
			if id == e.consult {
				reason = "call_ended"
			}
			c.withdraw(a, reason)
			c.setAgent(a, AgentAvailable)
		}
	}
	for uid, cid := range c.inCall {
		if cid == ended.CallID {
			delete(c.inCall, uid)
		}
	}
	c.dispatch()
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

// CallInfo is an active call as a supervisor's list shows it.
type CallInfo struct {
	ID       CallID
	Queue    string
	Customer UserRef
	Agents   []string
	Waiting  bool
}

// ActiveCalls lists calls in progress, for supervisors and admins.
func (c *Center) ActiveCalls(ctx context.Context, u UserRef) ([]CallInfo, error) {
	if u.Role != Supervisor && u.Role != Admin {
		return nil, fmt.Errorf("%w: only supervisors and admins list calls", ErrForbidden)
	}
	var out []CallInfo
	err := c.do(ctx, func() error {
		for id, e := range c.byCall {
			ci := CallInfo{ID: id, Queue: e.queue.cfg.Name, Customer: e.customer, Waiting: e.waiting}
			for uid, cid := range c.inCall {
				if a, ok := c.agents[uid]; ok && cid == id && a.state == AgentBusy {
					ci.Agents = append(ci.Agents, uid)
				}
			}
			slices.Sort(ci.Agents)
			out = append(out, ci)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b CallInfo) int {
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	return out, err
}
