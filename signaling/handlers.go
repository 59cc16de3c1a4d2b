package signaling

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/pion/webrtc/v4"

	"github.com/contactcenter/vcc/call"
)

type handlerFunc func(s *session, ctx context.Context, data json.RawMessage) error

type handler struct {
	roles []call.Role // nil: every role
	fn    handlerFunc
}

func (h handler) allows(r call.Role) bool { return h.roles == nil || slices.Contains(h.roles, r) }

var (
	customers = []call.Role{call.Customer}
	agents    = []call.Role{call.Agent}
	parties   = []call.Role{call.Customer, call.Agent}
	peers     = []call.Role{call.Customer, call.Agent, call.Supervisor} // who may have a PeerConnection
)

// handlerTable is the protocol: each client message type, who may send it, and what it does.
// The role check here is the first gate; the call rules check again with the call's state.
func handlerTable() map[string]handler {
	t := map[string]handler{
		"join":        {customers, handleJoin},
		"agent_state": {agents, handleAgentState},
		"accept":      {agents, handleAccept},
		"decline":     {agents, handleDecline},
		"hangup": {peers, func(s *session, ctx context.Context, _ json.RawMessage) error {
			return s.srv.center.Hangup(ctx, s.user)
		}},
		"offer":       {peers, handleOffer},
		"answer":      {peers, handleAnswer},
		"candidate":   {peers, handleCandidate},
		"media_state": {parties, handleMediaState},
		"ping":        {nil, func(s *session, _ context.Context, _ json.RawMessage) error { s.send("pong", struct{}{}); return nil }},
	}
	for k, h := range callControls() {
		t[k] = h
	}
	return t
}

func handleJoin(s *session, ctx context.Context, data json.RawMessage) error {
	var m joinMsg
	if err := decodeData(data, &m); err != nil {
		return err
	}
	p, err := s.newPeer()
	if err != nil {
		return err
	}
	id, err := s.srv.center.Enqueue(ctx, s.user, m.Queue, p, s)
	if err != nil {
		_ = p.Close(err)
		return err
	}
	s.setPeer(p, id)
	return nil
}

func handleAgentState(s *session, ctx context.Context, data json.RawMessage) error {
	var m agentStateMsg
	if err := decodeData(data, &m); err != nil {
		return err
	}
	st := call.AgentState(m.State)
	if st != call.AgentAvailable && st != call.AgentOffline {
		return newError(CodeBadRequest, `state must be "available" or "offline"`)
	}
	return s.srv.center.SetAgentState(ctx, s.user, st, s)
}

func callIDOf(data json.RawMessage) (call.CallID, error) {
	var m callIDMsg
	if err := decodeData(data, &m); err != nil {
		return "", err
	}
	if m.CallID == "" {
		return "", newError(CodeBadRequest, "call_id is required")
	}
	return call.CallID(m.CallID), nil
}

func handleAccept(s *session, ctx context.Context, data json.RawMessage) error {
	id, err := callIDOf(data)
	if err != nil {
		return err
	}
	p, err := s.newPeer()
	if err != nil {
		return err
	}
	if err := s.srv.center.Accept(ctx, s.user, id, p, s); err != nil {
		_ = p.Close(err)
		return err
	}
	s.setPeer(p, id)
	return nil
}

func handleDecline(s *session, ctx context.Context, data json.RawMessage) error {
	id, err := callIDOf(data)
	if err != nil {
		return err
	}
	return s.srv.center.Decline(ctx, s.user, id)
}

func sdpOf(data json.RawMessage) (string, error) {
	var m sdpMsg
	if err := decodeData(data, &m); err != nil {
		return "", err
	}
	if m.SDP == "" {
		return "", newError(CodeBadRequest, "sdp is required")
	}
	return m.SDP, nil
}

func handleOffer(s *session, _ context.Context, data json.RawMessage) error {
	sdp, err := sdpOf(data)
	if err != nil {
		return err
	}
	p, err := s.currentPeer()
	if err != nil {
		return err
	}
	ignored, err := p.neg.handleOffer(sdp)
	if ignored {
		s.log.Debug("client offer ignored: glare with the server's offer")
	}
	return err
}

func handleAnswer(s *session, _ context.Context, data json.RawMessage) error {
	sdp, err := sdpOf(data)
	if err != nil {
		return err
	}
	p, err := s.currentPeer()
	if err != nil {
		return err
	}
	return p.neg.handleAnswer(sdp)
}

func handleCandidate(s *session, _ context.Context, data json.RawMessage) error {
	var m candidateMsg
	if err := decodeData(data, &m); err != nil {
		return err
	}
	p, err := s.currentPeer()
	if err != nil {
		return err
	}
	if m.Candidate == "" {
		return nil // end of candidates: pion needs no signal for it
	}
	return p.neg.handleCandidate(webrtc.ICECandidateInit{Candidate: m.Candidate, SDPMid: m.SDPMid, SDPMLineIndex: m.SDPMLineIndex, UsernameFragment: m.UsernameFragment})
}

func handleMediaState(s *session, ctx context.Context, data json.RawMessage) error {
	var m mediaStateMsg
	if err := decodeData(data, &m); err != nil {
		return err
	}
	return s.srv.center.SetMedia(ctx, s.user, m.Audio, m.Video)
}
