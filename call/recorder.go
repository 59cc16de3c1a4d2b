package call

import "strconv"

// Recorder records a call's media (R26). It is an Endpoint the room attaches media to as it does
// to a silent monitor: each party's own streams in a forwarding room, the composite and the full
// mix in the MCU.
type Recorder interface {
	Endpoint
	// Files lists what was written, for the call's record; complete once Close has returned.
	Files() []string
}

// RecorderFactory starts a recorder for a call carried by a room of kind media; part counts the
// recordings of one call (recording stopped and started again, or the call moved room).
type RecorderFactory func(id CallID, media Mode, part int) (Recorder, error)

// WithRecorders enables media recording; without it recording is a flag in the call record only.
func WithRecorders(f RecorderFactory) Option { return func(x *Center) { x.recorders = f } }

// RecorderID is the recorder's member id in a media room; no user id starts with '~'.
const RecorderID PartyID = "~recorder"

// Monitoring is what a silent monitor (or a recorder) receives: every talking party and barging
// supervisor, and the equal picture.
func Monitoring(s State) Reception {
	rt := RoutingOf(Watching(s, RecorderID))
	return rt[RecorderID]
}

// Watching is s with one more silent supervisor, id.
func Watching(s State, id PartyID) State {
	s.Supervisors = append(append([]Watcher(nil), s.Supervisors...), Watcher{User: UserRef{ID: string(id), Name: "recorder", Role: Supervisor}})
	return s
}

// routing is what the room applies: the rules' routing, plus the recorder's reception while it runs.
func (l *loop) routing() Routing {
	rt := RoutingOf(l.state)
	if l.rec != nil {
		rt[RecorderID] = Monitoring(l.state)
	}
	return rt
}

// syncRecorder starts or stops the media recorder to match the call's recording flag (R26).
func (l *loop) syncRecorder() {
	want := l.state.Recording && l.state.Phase != PhaseEnded && l.recorders != nil
	switch {
	case want && l.rec == nil:
		l.recParts++
		rec, err := l.recorders(l.id, l.state.Media, l.recParts)
		if err != nil {
			l.log.Error("recording could not start; the call goes on unrecorded", "err", err)
			return
		}
		l.rec = rec
		if err := l.room.Apply(l.routing()); err != nil {
			l.log.Warn("media routing", "err", err)
		}
		if err := l.room.Join(rec); err != nil {
			l.log.Error("the media room refused the recorder", "err", err)
			_ = rec.Close(ReasonMediaFailed)
			l.rec = nil
		}
	case !want && l.rec != nil:
		l.stopRecorder()
	}
}

// stopRecorder closes the recorder and indexes its files in the call's record.
func (l *loop) stopRecorder() {
	rec := l.rec
	l.rec = nil
	l.room.Leave(RecorderID)
	_ = rec.Close(nil)
	for _, f := range rec.Files() {
		if err := l.record(RecRecordingFile, "", "system", map[string]string{"file": f, "media": string(l.state.Media), "part": strconv.Itoa(l.recParts)}); err != nil {
			l.log.Error("recording file not indexed", "file", f, "err", err)
		}
	}
}
