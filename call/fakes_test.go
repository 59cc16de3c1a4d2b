package call

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactcenter/vcc/media"
)

// Fakes for the seams of the center: Endpoint, MediaRoom, Notifier and Clock. They are safe for use
// from the center goroutine, the call loops and the test goroutine at once.

// waitLimit only turns a hang into a failure; tests synchronise on events and channels, never on time.
const waitLimit = 5 * time.Second

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// --- Endpoint ---

type fakeEndpoint struct {
	id     PartyID
	role   Role
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	closedBy error // reason given to the first Close
	closes   int
}

func newEndpoint(u UserRef) *fakeEndpoint {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &fakeEndpoint{id: PartyID(u.ID), role: u.Role, ctx: ctx, cancel: cancel}
}

func (e *fakeEndpoint) ID() PartyID               { return e.id }
func (e *fakeEndpoint) Role() Role                { return e.role }
func (e *fakeEndpoint) Caps() Caps                { return Caps{Audio: true, Video: true} }
func (e *fakeEndpoint) Sources() []media.Source   { return nil }
func (e *fakeEndpoint) OnSourcesChanged(func())   {}
func (e *fakeEndpoint) Attach(media.Source) error { return nil }
func (e *fakeEndpoint) Detach(media.Source)       {}
func (e *fakeEndpoint) Context() context.Context  { return e.ctx }
func (e *fakeEndpoint) fail(cause error)          { e.cancel(cause) } // the transport died
func (e *fakeEndpoint) closed() (error, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closedBy, e.closes
}
func (e *fakeEndpoint) Close(reason error) error {
	e.mu.Lock()
	if e.closes == 0 {
		e.closedBy = reason
	}
	e.closes++
	e.mu.Unlock()
	e.cancel(reason) // a real leg ends its context when closed
	return nil
}

// --- MediaRoom ---

type fakeRoom struct {
	id      CallID
	mode    Mode // the kind of room the call asked for (R3-R6)
	set     *roomSet
	mu      sync.Mutex
	joined  []PartyID
	left    []PartyID
	closes  int
	closedC chan struct{}
	routing Routing
}

func (r *fakeRoom) Join(ep Endpoint) error {
	if err := r.set.joinErr(ep.ID()); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Like sfu.Room: a member is in a room once; a second Join is refused.
	if r.member(ep.ID()) {
		return fmt.Errorf("%w: %s already in the room", ErrInvalidState, ep.ID())
	}
	r.joined = append(r.joined, ep.ID())
	return nil
}

// member reports whether p joined and has not left since (r.mu held).
func (r *fakeRoom) member(p PartyID) bool {
	n := 0
	for _, id := range r.joined {
		if id == p {
			n++
		}
	}
	for _, id := range r.left {
		if id == p {
			n--
		}
	}
	return n > 0
}

// members is who is in the room now, in join order.
func (r *fakeRoom) members() []PartyID {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []PartyID
	for _, id := range r.joined {
		if r.member(id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// lastRouting is the routing most recently applied.
func (r *fakeRoom) lastRouting() Routing {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.routing
}

func (r *fakeRoom) Leave(p PartyID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.left = append(r.left, p)
}

func (r *fakeRoom) Apply(rt Routing) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routing = rt
	return nil
}

func (r *fakeRoom) Close() error {
	r.set.mu.Lock()
	hold, closing := r.set.hold, r.set.closing
	r.set.mu.Unlock()
	if hold != nil {
		closing <- r.id
		<-hold
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closes++
	if r.closes == 1 {
		close(r.closedC)
	}
	return nil
}

func (r *fakeRoom) snapshot() (joined, left []PartyID, closes int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]PartyID(nil), r.joined...), append([]PartyID(nil), r.left...), r.closes
}

// roomSet is the RoomFactory: it remembers every room it built.
type roomSet struct {
	mu       sync.Mutex
	rooms    map[CallID]*fakeRoom // the latest room of each call
	built    []*fakeRoom          // every room, in the order built
	failJoin map[PartyID]error
	failNew  error
	// With hold set, Close reports the room on closing and then waits until hold is closed.
	hold    chan struct{}
	closing chan CallID
}

func (s *roomSet) holdClose(hold chan struct{}, closing chan CallID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold, s.closing = hold, closing
}

func newRoomSet() *roomSet {
	return &roomSet{rooms: map[CallID]*fakeRoom{}, failJoin: map[PartyID]error{}}
}

func (s *roomSet) factory(id CallID, mode Mode) (MediaRoom, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNew != nil {
		return nil, s.failNew
	}
	r := &fakeRoom{id: id, mode: mode, set: s, closedC: make(chan struct{})}
	s.rooms[id] = r
	s.built = append(s.built, r)
	return r, nil
}

func (s *roomSet) room(t testing.TB, id CallID) *fakeRoom {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[id]
	if r == nil {
		t.Fatalf("no room was built for call %s", id)
	}
	return r
}

// of lists the rooms built for call id, in order (more than one after a move, R5).
func (s *roomSet) of(id CallID) []*fakeRoom {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*fakeRoom
	for _, r := range s.built {
		if r.id == id {
			out = append(out, r)
		}
	}
	return out
}

func (s *roomSet) joinErr(p PartyID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failJoin[p]
}

// --- Notifier ---

type notifier struct {
	name string
	ch   chan Event
}

func newNotifier(name string) *notifier { return &notifier{name: name, ch: make(chan Event, 1024)} }

// Notify must not block: a full buffer is a test bug, reported loudly.
func (n *notifier) Notify(e Event) {
	select {
	case n.ch <- e:
	default:
		panic(fmt.Sprintf("notifier %s: event buffer full", n.name))
	}
}

// next waits for the next event of type T from n, skipping events of other types.
func next[T Event](t testing.TB, n *notifier) T {
	t.Helper()
	return waitFor(t, n, func(T) bool { return true })
}

// waitFor waits for an event of type T from n that satisfies ok, skipping every other event.
func waitFor[T Event](t testing.TB, n *notifier, ok func(T) bool) T {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		select {
		case e := <-n.ch:
			if x, is := e.(T); is && ok(x) {
				return x
			}
		case <-deadline.C:
			var zero T
			t.Fatalf("%s: no %T event arrived", n.name, zero)
			return zero
		}
	}
}

// drain returns the events already delivered to n without waiting.
func drain(n *notifier) []Event {
	var out []Event
	for {
		select {
		case e := <-n.ch:
			out = append(out, e)
		default:
			return out
		}
	}
}

// none fails if an event of type T is already waiting at n. Call it after a barrier (see
// harness.barrier) so that everything the center decided so far has been delivered.
func none[T Event](t testing.TB, n *notifier) {
	t.Helper()
	for _, e := range drain(n) {
		if _, is := e.(T); is {
			t.Errorf("%s: unexpected %T %+v", n.name, e, e)
		}
	}
}

// --- Clock ---

type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	clk     *fakeClock
	d       time.Duration
	f       func()
	stopped bool
	fired   bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clk: c, d: d, f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	active := !t.stopped && !t.fired
	t.stopped = true
	return active
}

// active lists the timers neither stopped nor fired.
func (c *fakeClock) active() []*fakeTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*fakeTimer
	for _, t := range c.timers {
		if !t.stopped && !t.fired {
			out = append(out, t)
		}
	}
	return out
}

// fire runs the timer's function now, as the runtime would when it expires.
func (t *fakeTimer) fire() {
	t.clk.mu.Lock()
	if t.stopped || t.fired {
		t.clk.mu.Unlock()
		return
	}
	t.fired = true
	t.clk.mu.Unlock()
	t.f()
}

// --- Harness ---

type harness struct {
	t     *testing.T
	c     *Center
	clk   *fakeClock
	rooms *roomSet
}

// person is a user with the endpoint and the client (notifier) they bring.
type person struct {
	u  UserRef
	ep *fakeEndpoint
	n  *notifier
}

const testTimeout = 20 * time.Second

// newHarness starts a center with fakes; at cleanup it closes the center and checks that no
// goroutine of the package outlives it.
func newHarness(t *testing.T, cfg Config, opts ...Option) *harness {
	t.Helper()
	if len(cfg.Queues) == 0 {
		cfg.Queues = []QueueConfig{{Name: "sales"}}
	}
	if cfg.OfferTimeout == 0 {
		cfg.OfferTimeout = testTimeout
	}
	h := &harness{t: t, clk: newFakeClock(), rooms: newRoomSet()}
	c, err := NewCenter(cfg, h.rooms.factory, append([]Option{WithClock(h.clk), WithLogger(quietLog())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	t.Cleanup(func() {
		c.Close() // a second Close is a no-op
		verifyNoLeaks(t)
	})
	return h
}

func (h *harness) customer(id string) *person {
	u := UserRef{ID: id, Name: "Customer " + id, Role: Customer}
	return &person{u: u, ep: newEndpoint(u), n: newNotifier(id)}
}

func (h *harness) agent(id string) *person {
	u := UserRef{ID: id, Name: "Agent " + id, Role: Agent}
	return &person{u: u, ep: newEndpoint(u), n: newNotifier(id)}
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	h.t.Cleanup(cancel)
	return ctx
}

// enqueue brings p into queue q and waits for their first queue position.
func (h *harness) enqueue(p *person, q string, wantPos int) CallID {
	h.t.Helper()
	id, err := h.c.Enqueue(h.ctx(), p.u, q, p.ep, p.n)
	if err != nil {
		h.t.Fatalf("Enqueue(%s): %v", p.u.ID, err)
	}
	pos := next[QueuePosition](h.t, p.n)
	if pos.CallID != id || pos.Position != wantPos {
		h.t.Fatalf("%s: got %+v, want position %d of call %s", p.u.ID, pos, wantPos, id)
	}
	return id
}

// available makes agent p available and waits until the center has told them so.
func (h *harness) available(p *person) {
	h.t.Helper()
	if err := h.c.SetAgentState(h.ctx(), p.u, AgentAvailable, p.n); err != nil {
		h.t.Fatalf("SetAgentState(%s): %v", p.u.ID, err)
	}
	if st := next[AgentStateChanged](h.t, p.n); st.State != AgentAvailable {
		h.t.Fatalf("%s: got %+v, want available", p.u.ID, st)
	}
}

// offered waits until agent p is told they are ringing and then offered call id.
func (h *harness) offered(p *person, id CallID) CallOffered {
	h.t.Helper()
	if st := next[AgentStateChanged](h.t, p.n); st.State != AgentRinging {
		h.t.Fatalf("%s: agent state %s, want ringing", p.u.ID, st.State)
	}
	o := next[CallOffered](h.t, p.n)
	if o.CallID != id {
		h.t.Fatalf("%s: offered %s, want %s", p.u.ID, o.CallID, id)
	}
	return o
}

// accept accepts call id for agent p and waits until both sides see it connected.
func (h *harness) accept(p *person, id CallID, cust *person) {
	h.t.Helper()
	if err := h.c.Accept(h.ctx(), p.u, id, p.ep, p.n); err != nil {
		h.t.Fatalf("Accept(%s, %s): %v", p.u.ID, id, err)
	}
	for _, x := range []*person{cust, p} {
		waitFor(h.t, x.n, func(s CallState) bool { return s.Phase == PhaseConnected })
	}
}

// barrier returns once the center goroutine has run everything handed to it before the call. A
// decision made asynchronously (a posted timer, a call that ended) needs its own event to wait for.
func (h *harness) barrier() {
	h.t.Helper()
	if _, err := h.c.Stats(h.ctx()); err != nil {
		h.t.Fatalf("Stats: %v", err)
	}
}

func (h *harness) stats() Stats {
	h.t.Helper()
	st, err := h.c.Stats(h.ctx())
	if err != nil {
		h.t.Fatalf("Stats: %v", err)
	}
	return st
}

// waitClosed waits until the room of call id has been closed.
func (h *harness) waitClosed(id CallID) *fakeRoom {
	h.t.Helper()
	r := h.rooms.room(h.t, id)
	select {
	case <-r.closedC:
	case <-time.After(waitLimit):
		h.t.Fatalf("room of %s never closed", id)
	}
	return r
}

// --- Store ---

// fakeStore is an in-memory Store. failAppends makes every Append fail until it is cleared, as a
// database that went away would. Append insists on each call's records arriving with Seq 1, 2, ...
// without gaps or repeats, so a record written out of turn (or twice) fails the test that wrote it.
type fakeStore struct {
	mu        sync.Mutex
	records   map[CallID][]Record
	callbacks map[string]Callback
	settings  map[string]string
	appendErr error
}

func newFakeStore() *fakeStore {
	return &fakeStore{records: map[CallID][]Record{}, callbacks: map[string]Callback{}, settings: map[string]string{}}
}

// failAppends makes every later Append fail with err (nil: succeed again).
func (s *fakeStore) failAppends(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appendErr = err
}

func (s *fakeStore) Append(_ context.Context, r Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.appendErr != nil {
		return s.appendErr
	}
	recs := s.records[r.CallID]
	if want := len(recs) + 1; r.Seq != want {
		return fmt.Errorf("fake store: call %s record %q has seq %d, want %d", r.CallID, r.Type, r.Seq, want)
	}
	if r.Data != nil {
		d := make(map[string]string, len(r.Data))
		for k, v := range r.Data {
			d[k] = v
		}
		r.Data = d
	}
	s.records[r.CallID] = append(recs, r)
	return nil
}

func (s *fakeStore) EndUnfinished(_ context.Context, reason string, at time.Time) ([]CallID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CallID
	for id, recs := range s.records {
		if len(recs) > 0 && !hasType(recs, RecCallEnded) {
			s.records[id] = append(recs, Record{CallID: id, Seq: len(recs) + 1, At: at, Type: RecCallEnded, Role: "system",
				Data: map[string]string{"reason": reason}})
			out = append(out, id)
		}
	}
	return out, nil
}

func hasType(recs []Record, typ string) bool {
	for _, r := range recs {
		if r.Type == typ {
			return true
		}
	}
	return false
}

func (s *fakeStore) Calls(context.Context, CallFilter) ([]CallSummary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CallSummary
	for id := range s.records {
		out = append(out, CallSummary{ID: id})
	}
	return out, nil
}

func (s *fakeStore) Timeline(_ context.Context, id CallID) ([]Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs, ok := s.records[id]
	if !ok {
		return nil, fmt.Errorf("%w: call %s", ErrNotFound, id)
	}
	return append([]Record(nil), recs...), nil
}

func (s *fakeStore) SearchTags(context.Context, string, int) ([]Tag, error) { return nil, nil }

func (s *fakeStore) SaveCallback(_ context.Context, cb Callback) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callbacks[cb.ID] = cb
	return nil
}

func (s *fakeStore) Callback(_ context.Context, id string) (Callback, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cb, ok := s.callbacks[id]
	if !ok {
		return cb, fmt.Errorf("%w: callback %s", ErrNotFound, id)
	}
	return cb, nil
}

// Callbacks returns a fresh slice ordered by due time, as a database query would.
func (s *fakeStore) Callbacks(_ context.Context, f CallbackFilter) ([]Callback, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Callback
	for _, cb := range s.callbacks {
		if (f.Agent == "" || cb.Agent == f.Agent) && (f.Queue == "" || cb.Queue == f.Queue) &&
			(f.State == "" || cb.State == f.State) && (f.DueTo.IsZero() || cb.Due.Before(f.DueTo)) {
			out = append(out, cb)
		}
	}
	slices.SortFunc(out, func(a, b Callback) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (s *fakeStore) Setting(_ context.Context, key string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.settings[key]
	return v, ok, nil
}

func (s *fakeStore) SetSetting(_ context.Context, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings[key] = value
	return nil
}

func (s *fakeStore) Close() error { return nil }

// timeline is the records of call id so far (nil if none).
func (s *fakeStore) timeline(id CallID) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.records[id]...)
}

// ofType is the records of call id with the given type.
func (s *fakeStore) ofType(id CallID, typ string) []Record {
	var out []Record
	for _, r := range s.timeline(id) {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// --- Dialer (the SIP gateway) ---

type fakeDialer struct {
	mu     sync.Mutex
	dialed []string
	err    error
	// Not nil: Dial waits for ring to close before it reports ringing, then for answer to close.
	ring, answer chan struct{}
}

func (d *fakeDialer) Dial(ctx context.Context, number string, ringing func()) (Endpoint, error) {
	d.mu.Lock()
	ring, answer := d.ring, d.answer
	d.dialed = append(d.dialed, number)
	d.mu.Unlock()
	for i, step := range []chan struct{}{ring, answer} {
		if step == nil {
			continue
		}
		select {
		case <-step:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if i == 0 && ringing != nil {
			ringing()
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return nil, d.err
	}
	return newEndpoint(UserRef{ID: "tel:" + number, Role: Customer}), nil
}

func (d *fakeDialer) numbers() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dialed...)
}

// --- More harness ---

func (h *harness) supervisor(id string) *person {
	u := UserRef{ID: id, Name: "Supervisor " + id, Role: Supervisor}
	return &person{u: u, ep: newEndpoint(u), n: newNotifier(id)}
}

// connect brings customer cust into queue q (the only one waiting there), makes agent a available
// and has them accept the call: a connected 1:1 call.
func (h *harness) connect(cust, a *person, q string) CallID {
	h.t.Helper()
	id := h.enqueue(cust, q, 1)
	h.available(a)
	h.offered(a, id)
	h.accept(a, id, cust)
	return id
}

// wrapup waits until agent p is in wrap-up after call id (R2), then gives reason and waits until the
// agent is available again.
func (h *harness) wrapup(p *person, id CallID, reason string) WrapupStarted {
	h.t.Helper()
	w := waitFor(h.t, p.n, func(w WrapupStarted) bool { return w.CallID == id })
	if err := h.c.Wrapup(h.ctx(), p.u, reason); err != nil {
		h.t.Fatalf("Wrapup(%s, %q): %v", p.u.ID, reason, err)
	}
	waitFor(h.t, p.n, func(s AgentStateChanged) bool { return s.State == AgentAvailable })
	return w
}

// control applies a call control for p and fails the test if it is refused.
func (h *harness) control(p *person, cmd Command) {
	h.t.Helper()
	if err := h.c.Control(h.ctx(), p.u, cmd); err != nil {
		h.t.Fatalf("%s: %T: %v", p.u.ID, cmd, err)
	}
}

// sees waits until p is shown a call state that satisfies ok.
func (h *harness) sees(p *person, what string, ok func(CallState) bool) CallState {
	h.t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		select {
		case e := <-p.n.ch:
			if s, is := e.(CallState); is && ok(s) {
				return s
			}
		case <-deadline.C:
			h.t.Fatalf("%s was never shown a call state where %s", p.u.ID, what)
			return CallState{}
		}
	}
}

// expect waits until each of want has matched one event from n, in any order, skipping events
// that match none. Events of several types that different goroutines send (a call loop, the
// center) arrive in any order; next and waitFor would drop the ones that came first.
func expect(t testing.TB, n *notifier, want ...func(Event) bool) {
	t.Helper()
	left := slices.Clone(want)
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for len(left) > 0 {
		select {
		case e := <-n.ch:
			for i, ok := range left {
				if ok(e) {
					left = slices.Delete(left, i, i+1)
					break
				}
			}
		case <-deadline.C:
			t.Fatalf("%s: %d expected events never arrived", n.name, len(left))
		}
	}
}

// is matches an event of type T that satisfies ok (nil: any).
func is[T Event](ok func(T) bool) func(Event) bool {
	return func(e Event) bool {
		x, yes := e.(T)
		return yes && (ok == nil || ok(x))
	}
}

// eq matches an event equal to want.
func eq[T comparable](want T) func(Event) bool {
	return func(e Event) bool {
		x, yes := e.(T)
		return yes && x == want
	}
}

// waitTimer waits until the clock has an active timer that satisfies ok: timers armed by work the
// center posts to itself appear after the call that caused them returns. Each round is a round
// trip through the center goroutine.
func (h *harness) waitTimer(what string, ok func(*fakeTimer) bool) *fakeTimer {
	h.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		for _, tm := range h.clk.active() {
			if ok(tm) {
				return tm
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no timer %s", what)
		}
		h.barrier()
	}
}

// noTimer fails if an active timer satisfies ok.
func (h *harness) noTimer(what string, ok func(*fakeTimer) bool) {
	h.t.Helper()
	for _, tm := range h.clk.active() {
		if ok(tm) {
			h.t.Fatalf("a timer %s is still running", what)
		}
	}
}

var (
	_ Store     = (*fakeStore)(nil)
	_ Dialer    = (*fakeDialer)(nil)
	_ MediaRoom = (*fakeRoom)(nil)
	_ Endpoint  = (*fakeEndpoint)(nil)
	_ Clock     = (*fakeClock)(nil)
)
