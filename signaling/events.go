package signaling

import "github.com/contactcenter/vcc/call"

type partyMsg struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Audio bool   `json:"audio"`
	Video bool   `json:"video"`
}

type callStateMsg struct {
	CallID  string     `json:"call_id"`
	State   string     `json:"state"`
	Queue   string     `json:"queue"`
	Parties []partyMsg `json:"parties"`
	Actions []string   `json:"actions"`
}

// encodeEvent maps a domain event to its wire type and payload.
func encodeEvent(ev call.Event) (string, any) {
	switch e := ev.(type) {
	case call.AgentStateChanged:
		return "agent_state", agentStateMsg{State: string(e.State)}
	case call.CallOffered:
		return "call_offered", struct {
			CallID    string  `json:"call_id"`
			Queue     string  `json:"queue"`
			Customer  userMsg `json:"customer"`
			TimeoutMS int64   `json:"timeout_ms"`
		}{string(e.CallID), e.Queue, userMsg{ID: e.Customer.ID, Name: e.Customer.Name}, e.Timeout.Milliseconds()}
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
		m := callStateMsg{CallID: string(e.CallID), State: string(e.Phase), Queue: e.Queue, Actions: e.Actions, Parties: make([]partyMsg, len(e.Parties))}
		if m.Actions == nil {
			m.Actions = []string{}
		}
		for i, p := range e.Parties {
			m.Parties[i] = partyMsg{ID: string(p.ID), Name: p.Name, Role: string(p.Role), Audio: p.Audio, Video: p.Video}
		}
		return "call_state", m
	case call.CallEnded:
		return "call_ended", struct {
			CallID string `json:"call_id"`
			Reason string `json:"reason"`
			By     string `json:"by,omitempty"`
		}{string(e.CallID), e.Reason, string(e.By)}
	}
	return "", nil
}
