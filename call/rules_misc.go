package call

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

func (r *rules) screenShare(c ScreenShare) error {
	p, err := r.actor(c.By)
	if err != nil {
		return err
	}
	if !c.On {
		if r.s.Screen != p.ID() {
			return fmt.Errorf("%w: you are not sharing", ErrInvalidState)
		}
		r.s.Screen = ""
		r.log(RecScreenShare, string(p.ID()), string(p.As), "state", "stopped", "reason", "by_sharer")
		r.emit(Reroute{}, Publish{})
		return nil
	}
	switch {
	case r.s.Phase != PhaseConnected:
		return fmt.Errorf("%w: the call is not connected", ErrInvalidState)
	case !r.s.allVideo():
		return ErrScreenVideo // R19
	case r.s.Screen != "":
		return fmt.Errorf("%w: %s is already sharing", ErrInvalidState, r.s.Screen)
	}
	r.s.Screen = p.ID()
	r.log(RecScreenShare, string(p.ID()), string(p.As), "state", "started")
	r.emit(Reroute{}, Publish{})
	return nil
}

func (r *rules) layout(c SetLayout) error {
	p, err := r.actor(c.By)
	if err != nil {
		return err
	}
	switch c.Layout {
	case LayoutEqual, LayoutMaxCustomer, LayoutMaxAgent, LayoutMaxThird:
	default:
		return fmt.Errorf("%w: unknown layout %q", ErrBadRequest, c.Layout)
	}
	if r.s.Media != ModeMCU {
		return fmt.Errorf("%w: layouts exist only in MCU calls", ErrInvalidState)
	}
	if c.Layout != LayoutEqual && !r.s.allVideo() {
		return ErrLayoutVideo // R21
	}
	r.s.Parties[r.s.index(p.ID())].Layout = c.Layout
	r.log(RecLayout, string(p.ID()), string(p.As), "layout", c.Layout)
	r.emit(Reroute{}, Publish{})
	return nil
}

func (r *rules) monitor(c Monitor) error {
	u := c.Supervisor
	if u.Role != Supervisor {
		return fmt.Errorf("%w: only a supervisor monitors calls", ErrForbidden) // R23
	}
	i := r.s.watcher(u.ID)
	switch {
	case r.s.Phase != PhaseConnected:
		return fmt.Errorf("%w: the call is not connected", ErrInvalidState)
	case r.s.Assist && (i < 0 || c.Barge):
		return ErrWrapupAssist // R24: no new monitoring or barge-in during wrap-up assist
	case !r.s.hasAgent():
		return fmt.Errorf("%w: no agent to monitor", ErrInvalidState)
	case i >= 0 && r.s.Supervisors[i].Barge == c.Barge:
		return fmt.Errorf("%w: already doing that", ErrInvalidState)
	}
	mode := "monitor"
	if c.Barge {
		mode = "barge"
	}
	if i < 0 {
		r.s.Supervisors = append(r.s.Supervisors, Watcher{User: u, Barge: c.Barge})
		r.emit(JoinRoom{Party: PartyID(u.ID)})
	} else {
		r.s.Supervisors[i].Barge = c.Barge
	}
	r.log(RecSupervisor, u.ID, "supervisor", "mode", mode)
	r.emit(Reroute{}, Publish{})
	return nil
}

func (r *rules) stopMonitor(c StopMonitor) error {
	i := r.s.watcher(c.Supervisor)
	if i < 0 {
		return fmt.Errorf("%w: not monitoring this call", ErrInvalidState)
	}
	r.s.Supervisors = append(r.s.Supervisors[:i:i], r.s.Supervisors[i+1:]...)
	r.log(RecSupervisor, c.Supervisor, "supervisor", "mode", "stopped")
	r.emit(LeaveRoom{Party: PartyID(c.Supervisor), Reason: ReasonHangup}, Reroute{}, Publish{})
	return nil
}

func (r *rules) recording(c SetRecording) error {
	p, err := r.controller(c.By) // R26: on demand by the controlling agent
	if err != nil {
		return err
	}
	if r.s.Recording == c.On {
		return fmt.Errorf("%w: recording is already %s", ErrInvalidState, onOff(c.On))
	}
	r.s.Recording = c.On
	r.log(RecRecording, string(p.ID()), string(p.As), "state", map[bool]string{true: "started", false: "stopped"}[c.On], "automatic", "false")
	r.emit(Publish{})
	return nil
}

func (r *rules) tag(c AddTag) error {
	p, err := r.agentActor(c.By)
	if err != nil {
		return err
	}
	n := utf8.RuneCountInString(c.Text)
	switch {
	case !r.s.Recording:
		return fmt.Errorf("%w: tags mark a recording; the call is not being recorded", ErrInvalidState) // R26
	case n == 0 || n > 200 || !utf8.ValidString(c.Text):
		return fmt.Errorf("%w: a tag is 1 to 200 characters", ErrBadRequest)
	}
	r.log(RecTag, string(p.ID()), string(p.As), "text", c.Text)
	r.emit(Publish{})
	return nil
}

func onOff(b bool) string { return strconv.FormatBool(b) }
