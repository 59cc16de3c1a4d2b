package signaling

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ProtocolVersion is the only version this server speaks.
const ProtocolVersion = 1

// MaxMessageSize is the largest client message accepted; larger ones are refused with too_large.
const MaxMessageSize = 64 << 10

// Envelope is every message on the wire, both directions.
type Envelope struct {
	V    int             `json:"v"`
	Type string          `json:"type"`
	ID   string          `json:"id,omitempty"`
	Re   string          `json:"re,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Decode parses one client message. It checks the envelope only; each handler decodes its data.
func Decode(b []byte) (Envelope, *protoError) {
	var e Envelope
	if len(b) > MaxMessageSize {
		return e, newError(CodeTooLarge, fmt.Sprintf("message of %d bytes exceeds %d", len(b), MaxMessageSize))
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&e); err != nil {
		return e, newError(CodeBadRequest, "malformed message: "+err.Error())
	}
	if d.More() {
		return e, newError(CodeBadRequest, "malformed message: trailing data after the JSON object")
	}
	if e.V == 0 {
		e.V = ProtocolVersion
	}
	if e.V != ProtocolVersion {
		return e, newError(CodeUnsupportedVersion, fmt.Sprintf("protocol version %d is not supported; use %d", e.V, ProtocolVersion))
	}
	if e.Type == "" {
		return e, newError(CodeBadRequest, "message has no type")
	}
	if len(e.ID) > 64 {
		return e, newError(CodeBadRequest, "message id longer than 64 characters")
	}
	if e.Re != "" {
		return e, newError(CodeBadRequest, "re is set by the server only")
	}
	return e, nil
}

// decodeData parses a message's data into v, strictly.
func decodeData(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		raw = []byte("{}")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return newError(CodeBadRequest, "malformed data: "+err.Error())
	}
	return nil
}

// Payloads.

type joinMsg struct {
	Queue string `json:"queue"`
}

type agentStateMsg struct {
	State string `json:"state"`
}

type callIDMsg struct {
	CallID string `json:"call_id"`
}

type sdpMsg struct {
	SDP string `json:"sdp"`
}

type candidateMsg struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

type mediaStateMsg struct {
	Audio bool `json:"audio"`
	Video bool `json:"video"`
}

type errorMsg struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type userMsg struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role,omitempty"`
}

type welcomeMsg struct {
	Protocol int     `json:"protocol"`
	User     userMsg `json:"user"`
}

type mediaStartMsg struct {
	CallID     string      `json:"call_id"`
	ICEServers []iceServer `json:"ice_servers"`
}

type iceServer struct {
	URLs []string `json:"urls"`
}
