package call

import (
	"context"
	"fmt"
	"log/slog"
)

// leg is a party's connection to the call: its media endpoint and its client.
type leg struct {
	ep Endpoint
	n  Notifier
}

type request struct {
	cmd   Command
	leg   *leg // with Join
	reply chan error
}

// loop is the one goroutine that owns a call's state. Every change goes through Next; the effects are
// applied here, so the room and the clients see changes in the order the rules decided them.
type loop struct {
	id      CallID // immutable; state belongs to the loop goroutine
	state   State
	room    MediaRoom
	legs    map[PartyID]*leg
	reqs    chan request
	done    chan struct{}
	onEnd   func(CallEnded, []Party)
	log     *slog.Logger
	pending []Command // follow-ups decided while applying effects (a failed room join)
}

func newLoop(id CallID, queue string, room MediaRoom, onEnd func(CallEnded, []Party), log *slog.Logger) *loop {
	return &loop{
		id:    id,
		state: State{ID: id, Queue: queue, Phase: PhaseQueued},
		room:  room,
		legs:  map[PartyID]*leg{},
		reqs:  make(chan request),
		done:  make(chan struct{}),
		onEnd: onEnd,
		log:   log,
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
	next, effects, err := Next(l.state, cmd)
	if err != nil {
		return err
	}
	if j, ok := cmd.(Join); ok {
		l.legs[j.Party.ID()] = lg
	}
	prev := l.state
	l.state = next
	for _, e := range effects {
		l.apply(e, prev)
	}
	return nil
}

func (l *loop) apply(e Effect, prev State) {
	switch e := e.(type) {
	case JoinRoom:
		lg := l.legs[e.Party]
		if err := l.room.Join(lg.ep); err != nil {
			l.log.Error("media room refused party", "party", e.Party, "err", err)
			l.pending = append(l.pending, Leave{Party: e.Party, Reason: ReasonMediaFailed})
			return
		}
		go l.watch(e.Party, lg.ep)
	case LeaveRoom:
		lg := l.legs[e.Party]
		delete(l.legs, e.Party)
		l.room.Leave(e.Party)
		_ = lg.ep.Close(e.Reason)
		lg.n.Notify(CallEnded{CallID: l.id, Reason: reasonText(e.Reason), By: e.Party})
	case Publish:
		for id, lg := range l.legs {
			lg.n.Notify(View(l.state, id))
		}
	case Finish:
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
		l.onEnd(e.Ended, prev.Parties)
	}
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
		_ = l.submit(context.Background(), Leave{Party: id, Reason: cause}, nil)
	case <-l.done:
	}
}

func reasonText(err error) string {
	if err == nil {
		return ReasonHangup.Error()
	}
	return err.Error()
}
