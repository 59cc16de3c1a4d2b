package signaling

import "github.com/contactcenter/vcc/call"

type partyMsg struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	As    string `json:"as"`
	Audio bool   `json:"audio"`
	Video bool   `json:"video"`
	Held  bool   `json:"held"`
	Phone bool   `json:"phone,omitempty"`
	// RemoteHold: the party holds the call from its side (a phone on hold).
	RemoteHold bool `json:"remote_hold,omitempty"`
}

type consultMsg struct {
	Kind     string `json:"kind"`
	Target   string `json:"target"`
	Transfer bool   `json:"transfer"`
	Helper   string `json:"helper,omitempty"`
	// Ringing: the target is alerted; Dialing: a number the network is still trying (before SIP
	// 180/183). Neither once the helper has answered.
	Ringing bool `json:"ringing"`
	Dialing bool `json:"dialing,omitempty"`
}

type supervisorMsg struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Barge bool   `json:"barge"`
}

type callStateMsg struct {
	CallID       string            `json:"call_id"`
	State        string            `json:"state"`
	Queue        string            `json:"queue"`
	Media        string            `json:"media"`
	Conference   bool              `json:"conference"`
	WrapupAssist bool              `json:"wrapup_assist"`
	Recording    bool              `json:"recording"`
	Screen       string            `json:"screen,omitempty"`
	Layout       string            `json:"layout,omitempty"`
	Parties      []partyMsg        `json:"parties"`
	Supervisors  []supervisorMsg   `json:"supervisors,omitempty"`
	Consult      *consultMsg       `json:"consult,omitempty"`
	Actions      []string          `json:"actions"`
	Blocked      map[string]string `json:"blocked,omitempty"`
	Note         string            `json:"note,omitempty"`
}

// encodeEvent maps a domain event to its wire type and payload.
func encodeEvent(ev call.Event) (string, any) {
	switch e := ev.(type) {
	case call.AgentStateChanged:
		return "agent_state", agentStateMsg{State: string(e.State)}
	case call.CallOffered:
		return "call_offered", struct {
			CallID    string  `json:"call_id"`
			Kind      string  `json:"kind"`
			Queue     string  `json:"queue"`
			Customer  userMsg `json:"customer"`
			Callback  string  `json:"callback,omitempty"`
			TimeoutMS int64   `json:"timeout_ms"`
		}{string(e.CallID), e.Kind, e.Queue, userMsg{ID: e.Customer.ID, Name: e.Customer.Name}, e.Callback, e.Timeout.Milliseconds()}
	case call.WrapupStarted:
		return "wrapup_started", struct {
			CallID    string   `json:"call_id"`
			Queue     string   `json:"queue"`
			Reasons   []string `json:"reasons"`
			TimeoutMS int64    `json:"timeout_ms"`
			Applies   bool     `json:"applies_to_call"`
		}{string(e.CallID), e.Queue, e.Reasons, e.Timeout.Milliseconds(), e.Applies}
	case call.OfferWithdrawn:
		return "offer_withdrawn", struct {
			CallID string `json:"call_id"`
			Reason string `json:"reason"`
		}{string(e.CallID), e.Reason}
	case call.QueuePosition:
		return "queue_position", struct {
			CallID   string `json:"call_id"`
			Queue    string `json:"queue"`
			Position int    `json:"position"`
		}{string(e.CallID), e.Queue, e.Position}
	case call.CallState:
		m := callStateMsg{CallID: string(e.CallID), State: string(e.Phase), Queue: e.Queue, Media: string(e.Media),
			Conference: e.Conference, WrapupAssist: e.Assist, Recording: e.Recording, Screen: string(e.Screen),
			Layout: e.Layout, Actions: e.Actions, Blocked: e.Blocked, Note: e.Note, Parties: make([]partyMsg, len(e.Parties))}
		if m.Actions == nil {
			m.Actions = []string{}
		}
		for i, p := range e.Parties {
			m.Parties[i] = partyMsg{ID: string(p.ID), Name: p.Name, Role: string(p.Role), As: string(p.As), Audio: p.Audio, Video: p.Video, Held: p.Held, Phone: p.Phone, RemoteHold: p.RemoteHold}
		}
		for _, w := range e.Supervisors {
			m.Supervisors = append(m.Supervisors, supervisorMsg{ID: w.ID, Name: w.Name, Barge: w.Barge})
		}
		if c := e.Consult; c != nil {
			m.Consult = &consultMsg{Kind: string(c.Target.Kind), Target: c.Target.ID, Transfer: c.Transfer, Helper: string(c.Helper), Ringing: c.Helper == "" && c.Ringing, Dialing: c.Helper == "" && !c.Ringing}
		}
		return "call_state", m
	case call.DigitKeyed:
		return "dtmf", struct {
			CallID string `json:"call_id"`
			From   string `json:"from"`
			Digit  string `json:"digit"`
		}{string(e.CallID), string(e.From), string(e.Digit)}
	case call.CallEnded:
		return "call_ended", struct {
			CallID string `json:"call_id"`
			Reason string `json:"reason"`
			By     string `json:"by,omitempty"`
		}{string(e.CallID), e.Reason, string(e.By)}
	}
	return "", nil
}
