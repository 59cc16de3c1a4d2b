package signaling

import (
	"context"
	"encoding/json"
	"time"

	"github.com/contactcenter/vcc/call"
)

var (
	supervisors = []call.Role{call.Supervisor}
	staff       = []call.Role{call.Agent, call.Supervisor, call.Admin}
	admins      = []call.Role{call.Admin}
)

// callControls are the contact-center controls of docs/protocol.md. Roles are checked here first,
// and again by the call rules against the caller's role in the call (R7, R8, R13, ...).
func callControls() map[string]handler {
	return map[string]handler{
		"consult":        {agents, handleConsult},
		"transfer":       {agents, handleTransfer},
		"cancel_consult": {agents, control(func(by call.PartyID, _ json.RawMessage) (call.Command, error) { return call.CancelConsult{By: by}, nil })},
		"conference": {agents, control(func(by call.PartyID, _ json.RawMessage) (call.Command, error) {
			return call.StartConference{By: by}, nil
		})},
		"complete_transfer": {agents, control(func(by call.PartyID, _ json.RawMessage) (call.Command, error) {
			return call.CompleteTransfer{By: by}, nil
		})},
		"end_call":          {parties, control(func(by call.PartyID, _ json.RawMessage) (call.Command, error) { return call.End{By: by}, nil })},
		"hold":              {parties, control(holdCmd(true))},
		"resume":            {parties, control(holdCmd(false))},
		"screenshare":       {parties, control(onOffCmd(func(by call.PartyID, on bool) call.Command { return call.ScreenShare{By: by, On: on} }))},
		"record":            {parties, control(onOffCmd(func(by call.PartyID, on bool) call.Command { return call.SetRecording{By: by, On: on} }))},
		"layout":            {parties, control(layoutCmd)},
		"tag":               {parties, control(tagCmd)},
		"dtmf":              {agents, control(dtmfCmd)},
		"wrapup":            {agents, handleWrapup},
		"dial":              {agents, handleDial},
		"monitor":           {supervisors, handleMonitor},
		"active_calls":      {[]call.Role{call.Supervisor, call.Admin}, handleActiveCalls},
		"video_mode":        {staff, handleVideoMode},
		"callback_schedule": {agents, handleCallbackSchedule},
		"callback_list":     {staff, handleCallbackList},
		"callback_move":     {staff, handleCallbackMove},
		"callback_cancel":   {staff, handleCallbackCancel},
	}
}

// control turns a message into a command of the sender's call; By is always the authenticated user.
func control(build func(call.PartyID, json.RawMessage) (call.Command, error)) handlerFunc {
	return func(s *session, ctx context.Context, data json.RawMessage) error {
		cmd, err := build(call.PartyID(s.user.ID), data)
		if err != nil {
			return err
		}
		return s.srv.center.Control(ctx, s.user, cmd)
	}
}

type targetMsg struct {
	Kind     string `json:"kind"`
	Target   string `json:"target"`
	Transfer bool   `json:"transfer"`
}

func targetOf(data json.RawMessage) (call.Target, bool, error) {
	var m targetMsg
	if err := decodeData(data, &m); err != nil {
		return call.Target{}, false, err
	}
	if m.Kind == "" || m.Target == "" {
		return call.Target{}, false, newError(CodeBadRequest, "kind (agent, queue or number) and target are required")
	}
	return call.Target{Kind: call.TargetKind(m.Kind), ID: m.Target}, m.Transfer, nil
}

func handleConsult(s *session, ctx context.Context, data json.RawMessage) error {
	t, transfer, err := targetOf(data)
	if err != nil {
		return err
	}
	return s.srv.center.Consult(ctx, s.user, t, transfer)
}

func handleTransfer(s *session, ctx context.Context, data json.RawMessage) error {
	t, _, err := targetOf(data)
	if err != nil {
		return err
	}
	return s.srv.center.BlindTransfer(ctx, s.user, t)
}

func holdCmd(hold bool) func(call.PartyID, json.RawMessage) (call.Command, error) {
	return func(by call.PartyID, data json.RawMessage) (call.Command, error) {
		var m struct {
			Party string `json:"party"`
		}
		if err := decodeData(data, &m); err != nil {
			return nil, err
		}
		if hold {
			return call.Hold{By: by, Party: call.PartyID(m.Party)}, nil
		}
		return call.Resume{By: by, Party: call.PartyID(m.Party)}, nil
	}
}

func onOffCmd(build func(call.PartyID, bool) call.Command) func(call.PartyID, json.RawMessage) (call.Command, error) {
	return func(by call.PartyID, data json.RawMessage) (call.Command, error) {
		var m struct {
			On *bool `json:"on"`
		}
		if err := decodeData(data, &m); err != nil {
			return nil, err
		}
		if m.On == nil {
			return nil, newError(CodeBadRequest, "on (true or false) is required")
		}
		return build(by, *m.On), nil
	}
}

func layoutCmd(by call.PartyID, data json.RawMessage) (call.Command, error) {
	var m struct {
		Layout string `json:"layout"`
	}
	if err := decodeData(data, &m); err != nil {
		return nil, err
	}
	return call.SetLayout{By: by, Layout: m.Layout}, nil
}

func tagCmd(by call.PartyID, data json.RawMessage) (call.Command, error) {
	var m struct {
		Text string `json:"text"`
	}
	if err := decodeData(data, &m); err != nil {
		return nil, err
	}
	return call.AddTag{By: by, Text: m.Text}, nil
}

func handleWrapup(s *session, ctx context.Context, data json.RawMessage) error {
	var m struct {
		Reason string `json:"reason"`
	}
	if err := decodeData(data, &m); err != nil {
		return err
	}
	return s.srv.center.Wrapup(ctx, s.user, m.Reason)
}

func handleDial(s *session, ctx context.Context, data json.RawMessage) error {
	t, _, err := targetOf(data)
	if err != nil {
		return err
	}
	p, err := s.newPeer()
	if err != nil {
		return err
	}
	id, err := s.srv.center.Dial(ctx, s.user, t, p, s)
	if err != nil {
		_ = p.Close(err)
		return err
	}
	s.setPeer(p, id)
	return nil
}

func handleMonitor(s *session, ctx context.Context, data json.RawMessage) error {
	var m struct {
		CallID string `json:"call_id"`
		Barge  bool   `json:"barge"`
	}
	if err := decodeData(data, &m); err != nil {
		return err
	}
	if m.CallID == "" {
		return newError(CodeBadRequest, "call_id is required")
	}
	s.mu.Lock()
	cur, curID := s.peer, s.callID
	s.mu.Unlock()
	if cur != nil && curID == call.CallID(m.CallID) {
		// Switching between monitoring and barge-in on the same call keeps the connection.
		return s.srv.center.Monitor(ctx, s.user, curID, m.Barge, nil, s)
	}
	p, err := s.newPeer()
	if err != nil {
		return err
	}
	if err := s.srv.center.Monitor(ctx, s.user, call.CallID(m.CallID), m.Barge, p, s); err != nil {
		_ = p.Close(err)
		return err
	}
	s.setPeer(p, call.CallID(m.CallID))
	return nil
}

func handleActiveCalls(s *session, ctx context.Context, _ json.RawMessage) error {
	calls, err := s.srv.center.ActiveCalls(ctx, s.user)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(calls))
	for _, c := range calls {
		out = append(out, map[string]any{"call_id": c.ID, "queue": c.Queue, "customer": userMsg{ID: c.Customer.ID, Name: c.Customer.Name},
			"agents": c.Agents, "waiting": c.Waiting})
	}
	s.send("active_calls", map[string]any{"calls": out})
	return nil
}

func handleVideoMode(s *session, ctx context.Context, data json.RawMessage) error {
	var m struct {
		Mode string `json:"mode"`
	}
	if err := decodeData(data, &m); err != nil {
		return err
	}
	if m.Mode != "" {
		if err := s.srv.center.SetVideoMode(ctx, s.user, call.Mode(m.Mode)); err != nil {
			return err
		}
	}
	mode, err := s.srv.center.VideoMode(ctx)
	if err != nil {
		return err
	}
	s.send("video_mode", map[string]string{"mode": string(mode)})
	return nil
}

type callbackMsg struct {
	ID       string `json:"id,omitempty"`
	CallID   string `json:"call_id,omitempty"`
	Customer string `json:"customer,omitempty"`
	Name     string `json:"name,omitempty"`
	Number   string `json:"number,omitempty"`
	Personal bool   `json:"personal,omitempty"`
	Agent    string `json:"agent,omitempty"`
	Queue    string `json:"queue,omitempty"`
	Due      string `json:"due"`
	Reason   string `json:"reason,omitempty"`
	State    string `json:"state,omitempty"`
}

func callbackOut(cb call.Callback) callbackMsg {
	return callbackMsg{ID: cb.ID, CallID: string(cb.CallID), Customer: cb.Customer, Name: cb.Name, Number: cb.Number,
		Personal: cb.Agent != "", Agent: cb.Agent, Queue: cb.Queue, Due: cb.Due.UTC().Format(time.RFC3339), Reason: cb.Reason, State: string(cb.State)}
}

func parseDue(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, newError(CodeBadRequest, "due must be an RFC 3339 time, e.g. 2026-11-22T09:30:00Z")
	}
	return t, nil
}

func handleCallbackSchedule(s *session, ctx context.Context, data json.RawMessage) error {
	var m callbackMsg
	if err := decodeData(data, &m); err != nil {
		return err
	}
	due, err := parseDue(m.Due)
	if err != nil {
		return err
	}
	cb := call.Callback{CallID: call.CallID(m.CallID), Customer: m.Customer, Name: m.Name, Number: m.Number, Queue: m.Queue, Due: due, Reason: m.Reason}
	if m.Personal {
		cb.Agent = s.user.ID
	}
	cb, err = s.srv.center.ScheduleCallback(ctx, s.user, cb)
	if err != nil {
		return err
	}
	s.send("callback", callbackOut(cb))
	return nil
}

func handleCallbackList(s *session, ctx context.Context, _ json.RawMessage) error {
	cbs, err := s.srv.center.Callbacks(ctx, s.user, call.CallbackFilter{State: call.CallbackScheduled})
	if err != nil {
		return err
	}
	out := make([]callbackMsg, len(cbs))
	for i, cb := range cbs {
		out[i] = callbackOut(cb)
	}
	s.send("callbacks", map[string]any{"callbacks": out})
	return nil
}

func handleCallbackMove(s *session, ctx context.Context, data json.RawMessage) error {
	var m callbackMsg
	if err := decodeData(data, &m); err != nil {
		return err
	}
	due, err := parseDue(m.Due)
	if err != nil {
		return err
	}
	return s.srv.center.MoveCallback(ctx, s.user, m.ID, due)
}

func handleCallbackCancel(s *session, ctx context.Context, data json.RawMessage) error {
	var m struct {
		ID string `json:"id"`
	}
	if err := decodeData(data, &m); err != nil {
		return err
	}
	return s.srv.center.CancelCallback(ctx, s.user, m.ID)
}

func dtmfCmd(by call.PartyID, data json.RawMessage) (call.Command, error) {
	var m struct {
		To     string `json:"to"`
		Digits string `json:"digits"`
	}
	if err := decodeData(data, &m); err != nil {
		return nil, err
	}
	return call.SendDigits{By: by, To: call.PartyID(m.To), Digits: m.Digits}, nil
}
