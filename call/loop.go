package call

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// leg is a party's (or supervisor's) connection to the call: its media endpoint and its client.
type leg struct {
	ep Endpoint
	n  Notifier
}

type request struct {
	cmd   Command
	leg   *leg // with Join and Monitor
	reply chan error
}

// hooks are how a call loop reaches the center. Each must return at once (the center posts the
// work to its own goroutine): a call loop never waits for the center, so the center may wait for
// a call loop.
type hooks struct {
	ring     func(CallID, Ring)
	cancel   func(CallID, CancelRing)
	requeue  func(CallID, Requeue)
	released func(CallID, string, Released) // call, queue, agent
	ended    func(CallEnded, []Party, int)  // the call's last record seq
}

// loop is the one goroutine that owns a call's state. Every change goes through Next; its records
// are made durable first, then the effects are applied here, so the room and the clients see
// changes in the order the rules decided them.
type loop struct {
	id      CallID // immutable; state belongs to the loop goroutine
	state   State
	room    MediaRoom
	rooms   RoomFactory
	legs    map[PartyID]*leg
	reqs    chan request
	done    chan struct{}
	hooks   hooks
	store   Store
	clock   Clock
	seq     int
	log     *slog.Logger
	pending []Command // follow-ups decided while applying effects (a failed room join)

	recorders RecorderFactory // nil: recording is a flag in the record only
	rec       Recorder        // running while the call is recorded (R26)
	recParts  int
}

func newLoop(s State, room MediaRoom, rooms RoomFactory, st Store, clock Clock, h hooks, log *slog.Logger) *loop {
	return &loop{
		id: s.ID, state: s, room: room, rooms: rooms, legs: map[PartyID]*leg{},
		reqs: make(chan request), done: make(chan struct{}), hooks: h, store: st, clock: clock, log: log,
	}
}

// submit hands cmd to the loop and waits for the rules' verdict.
func (l *loop) submit(ctx context.Context, cmd Command, lg *leg) error {
	r := request{cmd: cmd, leg: lg, reply: make(chan error, 1)}
	select {
	case l.reqs <- r:
	case <-l.done:
		return fmt.Errorf("%w: call %s has ended", ErrInvalidState, l.id)
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once accepted the command is decided and applied; its verdict is always worth waiting for.
	return <-r.reply
}

// post hands cmd to the loop without waiting; used where the caller must not block on the call.
func (l *loop) post(cmd Command) {
	go func() { _ = l.submit(context.Background(), cmd, nil) }()
}

// record appends one record with the next sequence number (durable when it returns).
func (l *loop) record(typ, actor, role string, data map[string]string) error {
	if l.store == nil {
		l.seq++
		return nil
	}
	rec := Record{CallID: l.id, Seq: l.seq + 1, At: l.clock.Now(), Type: typ, Actor: actor, Role: role, Data: data}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.store.Append(ctx, rec); err != nil {
		return fmt.Errorf("call: recording %s: %w", typ, err)
	}
	l.seq++
	return nil
}

func (l *loop) run() {
	defer close(l.done)
	for r := range l.reqs {
		err := l.handle(r.cmd, r.leg)
		failed := len(l.pending) > 0
		for len(l.pending) > 0 && l.state.Phase != PhaseEnded {
			next := l.pending[0]
			l.pending = l.pending[1:]
			if err := l.handle(next, nil); err != nil {
				l.log.Warn("follow-up refused", "cmd", fmt.Sprintf("%T", next), "err", err)
			}
		}
		l.pending = nil
		if err == nil && failed {
			err = fmt.Errorf("%w: the media room refused the party", ReasonMediaFailed)
		}
		r.reply <- err
		if l.state.Phase == PhaseEnded {
			return
		}
	}
}

func (l *loop) handle(cmd Command, lg *leg) error {
	switch q := cmd.(type) {
	case query:
		q.f(l.state)
		return nil
	case logCmd:
		return l.record(q.rec.Type, q.rec.Actor, q.rec.Role, q.rec.Data)
	}
	next, effects, err := Next(l.state, cmd)
	if err != nil {
		return err
	}
	// R25: what the rules decided is durable before anyone is told. A store failure refuses the
	// command: nothing changes that the record does not hold.
	for _, e := range effects {
		if rec, ok := e.(Log); ok {
			if err := l.record(rec.Type, rec.Actor, rec.Role, rec.Data); err != nil {
				if e, ok := cmd.(End); ok && e.By == "" {
					// The system ending a call (shutdown) must not hang on a broken store; the
					// next start closes the record as ended by server restart.
					l.log.Error("call record not written; ending the call anyway", "err", err)
					break
				}
				l.log.Error("call record not written; command refused", "err", err)
				return fmt.Errorf("%w: the call record could not be written", ErrInvalidState)
			}
		}
	}
	switch c := cmd.(type) {
	case Join:
		l.legs[c.Party.ID()] = lg
	case Monitor:
		if lg != nil {
			l.legs[PartyID(c.Supervisor.ID)] = lg
		}
	}
	l.state = next
	for _, e := range effects {
		l.apply(e)
	}
	l.syncRecorder()
	return nil
}

func (l *loop) apply(e Effect) {
	switch e := e.(type) {
	case JoinRoom:
		lg := l.legs[e.Party]
		if lg == nil {
			return
		}
		if err := l.room.Join(lg.ep); err != nil {
			l.log.Error("media room refused party", "party", e.Party, "err", err)
			l.pending = append(l.pending, Leave{Party: e.Party, Reason: ReasonMediaFailed})
			return
		}
		go l.watch(e.Party, lg.ep)
		party := e.Party
		if dr, ok := lg.ep.(DigitReceiver); ok {
			dr.OnDigit(func(d rune) { l.post(PhoneDigit{Party: party, Digit: d}) })
		}
		if hr, ok := lg.ep.(HoldReporter); ok {
			hr.OnRemoteHold(func(held bool) { l.post(RemoteHold{Party: party, Held: held}) })
		}
	case LeaveRoom:
		lg := l.legs[e.Party]
		if lg == nil {
			return
		}
		delete(l.legs, e.Party)
		l.room.Leave(e.Party)
		_ = lg.ep.Close(e.Reason)
		lg.n.Notify(CallEnded{CallID: l.id, Reason: reasonText(e.Reason), By: e.Party})
	case Reroute:
		if err := l.room.Apply(l.routing()); err != nil {
			l.log.Warn("media routing", "err", err)
		}
	case Publish:
		for id, lg := range l.legs {
			v := View(l.state, id)
			v.Note = e.Note
			lg.n.Notify(v)
		}
	case SwitchMedia:
		l.switchRoom(e.To)
	case TellStaff:
		for id, lg := range l.legs {
			if p, ok := l.state.party(id); (ok && p.IsAgent()) || (!ok && l.isSupervisor(id)) {
				lg.n.Notify(e.Event)
			}
		}
	case PlayDigits:
		lg := l.legs[e.To]
		if lg == nil {
			return
		}
		if ds, ok := lg.ep.(DigitSender); ok {
			if err := ds.SendDigits(e.Digits); err != nil {
				l.log.Warn("digits not played", "party", e.To, "err", err)
			}
		}
	case Ring:
		l.hooks.ring(l.id, e)
	case CancelRing:
		l.hooks.cancel(l.id, e)
	case Requeue:
		l.hooks.requeue(l.id, e)
	case Released:
		l.hooks.released(l.id, l.state.Queue, e)
	case Finish:
		if l.rec != nil {
			l.stopRecorder() // its files are indexed before the call's last record seq is handed on
		}
		if err := l.room.Close(); err != nil {
			l.log.Warn("closing media room", "err", err)
		}
		for id, lg := range l.legs {
			_ = lg.ep.Close(e.Reason)
			lg.n.Notify(View(l.state, id))
			lg.n.Notify(e.Ended)
		}
		l.legs = nil
		l.log.Info("call ended", "reason", e.Ended.Reason, "by", e.Ended.By)
		l.hooks.ended(e.Ended, l.parties(), l.seq)
	}
}

// parties is everyone who was in the call when it ended (for the center to release).
func (l *loop) parties() []Party { return l.state.Parties }

// switchRoom moves every leg to a room of another kind while the call goes on (R5): the endpoints
// (and their connections) stay, only what is attached to them changes.
func (l *loop) switchRoom(to Mode) {
	next, err := l.rooms(l.id, to)
	if err != nil {
		l.log.Error("building the new media room; the call stays where it is", "mode", to, "err", err)
		return
	}
	// The routing first: a party joining the new room must not hear, even for a moment, someone
	// the rules say it must not (a held customer, a silent supervisor).
	// The recording moves too: one recorder per room kind (a forwarding room records each party,
	// the MCU its composite), so this one ends here and syncRecorder starts the next.
	if l.rec != nil {
		l.stopRecorder()
	}
	if err := next.Apply(RoutingOf(l.state)); err != nil {
		l.log.Warn("media routing", "err", err)
	}
	old := l.room
	for id, lg := range l.legs {
		old.Leave(id)
		if err := next.Join(lg.ep); err != nil {
			l.log.Error("moving party to the new room", "party", id, "err", err)
		}
	}
	_ = old.Close()
	l.room = next
	l.log.Info("call moved to another media room", "mode", to)
}

// watch turns the end of a party's transport (ICE failed, socket gone) into that party leaving.
func (l *loop) watch(id PartyID, ep Endpoint) {
	select {
	case <-ep.Context().Done():
		cause := context.Cause(ep.Context())
		if cause == nil || cause == context.Canceled {
			cause = ReasonDisconnected
		}
		// The leg may already have left through a hangup; Next refuses the duplicate.
		if l.isSupervisor(id) {
			_ = l.submit(context.Background(), StopMonitor{Supervisor: string(id)}, nil)
			return
		}
		_ = l.submit(context.Background(), Leave{Party: id, Reason: cause}, nil)
	case <-l.done:
	}
}

// isSupervisor may be called from any goroutine: supervisors' ids never collide with parties'
// because both are user ids, and a user is in a call once; the legs map is not touched.
func (l *loop) isSupervisor(id PartyID) bool {
	var sup bool
	_ = l.submitQuery(func(s State) { sup = s.watcher(string(id)) >= 0 })
	return sup
}

// submitQuery runs f on the loop goroutine against the current state.
func (l *loop) submitQuery(f func(State)) error {
	return l.submit(context.Background(), query{f: f}, nil)
}

// check asks the rules whether cmd would be accepted now, without applying it.
func (l *loop) check(ctx context.Context, cmd Command) error {
	var err error
	if qerr := l.submit(ctx, query{f: func(s State) { _, _, err = Next(s, cmd) }}, nil); qerr != nil {
		return qerr
	}
	return err
}

// query is an internal read-only command.
type query struct{ f func(State) }

func (query) command() {}

func reasonText(err error) string {
	if err == nil {
		return ReasonHangup.Error()
	}
	return err.Error()
}
