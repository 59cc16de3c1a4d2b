package signaling

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// errBadSDP marks SDP that could not be parsed or applied; it maps to the protocol's bad_sdp code.
var errBadSDP = errors.New("signaling: bad sdp")

// negotiator runs offer/answer for one PeerConnection. The server is the impolite peer of "perfect
// negotiation": a client offer that collides with the server's own pending offer is ignored, and the
// polite browser rolls back. Changes wanted while an exchange is in flight are folded into one
// follow-up offer. The server never offers before the client's first offer, so the browser's
// camera and microphone m-lines come first and the server's tracks reuse them.
type negotiator struct {
	pc   *webrtc.PeerConnection
	send func(string, any)
	log  *slog.Logger

	mu      sync.Mutex
	started bool // the client's first offer has been applied
	pending bool // a renegotiation is wanted
	remote  []webrtc.ICECandidateInit
}

func (n *negotiator) negotiate() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.pending = true
	n.offerLocked()
}

func (n *negotiator) offerLocked() {
	if !n.pending || !n.started || n.pc.SignalingState() != webrtc.SignalingStateStable {
		return
	}
	n.pending = false
	offer, err := n.pc.CreateOffer(nil)
	if err == nil {
		err = n.pc.SetLocalDescription(offer)
	}
	if err != nil {
		if !errors.Is(err, webrtc.ErrConnectionClosed) {
			n.log.Error("creating offer", "err", err)
		}
		return
	}
	n.send("offer", sdpMsg{SDP: offer.SDP})
}

// handleOffer applies a client offer and answers it. It reports whether the offer was ignored
// because of glare.
func (n *negotiator) handleOffer(sdp string) (ignored bool, err error) {
	// Check the offer before anything else, so garbage is refused even when it collides.
	if err := checkOffer(sdp); err != nil {
		return false, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		return true, nil
	}
	if err := n.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		if errors.Is(err, webrtc.ErrConnectionClosed) {
			return true, nil // the leg just ended; its call_ended is on the way
		}
		return false, fmt.Errorf("%w: %v", errBadSDP, err)
	}
	n.flushCandidatesLocked()
	answer, err := n.pc.CreateAnswer(nil)
	if err == nil {
		err = n.pc.SetLocalDescription(answer)
	}
	if errors.Is(err, webrtc.ErrConnectionClosed) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w: %v", errBadSDP, err)
	}
	n.send("answer", sdpMsg{SDP: answer.SDP})
	n.started = true
	n.offerLocked()
	return false, nil
}

func (n *negotiator) handleAnswer(sdp string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		return fmt.Errorf("%w: no offer is waiting for an answer", errInvalidState)
	}
	if err := n.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		if errors.Is(err, webrtc.ErrConnectionClosed) {
			return nil // the leg just ended; its call_ended is on the way
		}
		return fmt.Errorf("%w: %v", errBadSDP, err)
	}
	n.flushCandidatesLocked()
	n.offerLocked()
	return nil
}

// handleCandidate adds a remote candidate, holding it until a remote description exists.
func (n *negotiator) handleCandidate(c webrtc.ICECandidateInit) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.pc.RemoteDescription() == nil {
		if len(n.remote) >= 64 {
			return fmt.Errorf("%w: too many candidates before an offer", errInvalidState)
		}
		n.remote = append(n.remote, c)
		return nil
	}
	if err := n.pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: candidate: %v", errBadRequest, err)
	}
	return nil
}

func (n *negotiator) flushCandidatesLocked() {
	for _, c := range n.remote {
		if err := n.pc.AddICECandidate(c); err != nil {
			n.log.Warn("dropping remote candidate", "err", err)
		}
	}
	n.remote = nil
}

// checkOffer refuses SDP that no browser would send: unparseable, without media, or without the
// ICE credentials and DTLS fingerprint a WebRTC offer must carry.
func checkOffer(raw string) error {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(raw); err != nil {
		return fmt.Errorf("%w: %v", errBadSDP, err)
	}
	if len(d.MediaDescriptions) == 0 {
		return fmt.Errorf("%w: offer has no media sections", errBadSDP)
	}
	has := func(key string) bool {
		if _, ok := d.Attribute(key); ok {
			return true
		}
		for _, m := range d.MediaDescriptions {
			if _, ok := m.Attribute(key); ok {
				return true
			}
		}
		return false
	}
	for _, k := range []string{"ice-ufrag", "ice-pwd", "fingerprint"} {
		if !has(k) {
			return fmt.Errorf("%w: offer lacks a=%s", errBadSDP, k)
		}
	}
	return nil
}
