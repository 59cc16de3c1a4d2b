package client

import (
	"encoding/json"
	"net"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// LoopbackAPI is a pion API for a client on the server's machine: VP8 + Opus, NACK and RTCP
// reports, loopback candidates only.
func LoopbackAPI() *webrtc.API {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		panic(err) // only fails on a programming error in the codec table
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		panic(err)
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

type sdpData struct {
	SDP string `json:"sdp"`
}

type candData struct {
	Candidate     string  `json:"candidate"`
	SDPMid        *string `json:"sdpMid,omitempty"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex,omitempty"`
}

// handleMedia runs the client side of negotiation: offer on media_start, answer server offers.
func (c *Client) handleMedia(m Message) {
	switch m.Type {
	case "media_start":
		c.startMedia()
	case "offer":
		var d sdpData
		_ = json.Unmarshal(m.Data, &d)
		pc := c.PC()
		if pc == nil {
			return
		}
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: d.SDP}); err != nil {
			return
		}
		c.flushCandidates(pc)
		ans, err := pc.CreateAnswer(nil)
		if err != nil || pc.SetLocalDescription(ans) != nil {
			return
		}
		_ = c.Send("answer", sdpData{SDP: ans.SDP})
	case "answer":
		var d sdpData
		_ = json.Unmarshal(m.Data, &d)
		if pc := c.PC(); pc != nil {
			if pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: d.SDP}) == nil {
				c.flushCandidates(pc)
			}
		}
	case "candidate":
		var d candData
		_ = json.Unmarshal(m.Data, &d)
		pc := c.PC()
		if pc == nil || d.Candidate == "" {
			return
		}
		init := webrtc.ICECandidateInit{Candidate: d.Candidate, SDPMid: d.SDPMid, SDPMLineIndex: d.SDPMLineIndex}
		if pc.RemoteDescription() == nil {
			c.mu.Lock()
			c.pending = append(c.pending, init)
			c.mu.Unlock()
			return
		}
		_ = pc.AddICECandidate(init)
	case "call_ended":
		c.closePC()
	}
}

func (c *Client) flushCandidates(pc *webrtc.PeerConnection) {
	c.mu.Lock()
	p := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, cand := range p {
		_ = pc.AddICECandidate(cand)
	}
}

func (c *Client) startMedia() {
	pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return
	}
	c.mu.Lock()
	old := c.pc
	c.pc = pc
	tracks := c.tracks
	onTrack := c.onTrack
	c.senders = nil
	c.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	for _, t := range tracks {
		s, err := pc.AddTrack(t)
		if err != nil {
			continue
		}
		c.mu.Lock()
		c.senders = append(c.senders, s)
		c.mu.Unlock()
	}
	if len(tracks) == 0 {
		// Nothing to send (no camera, or a listener): still offer to receive both kinds, as a browser
		// without devices does; an offer without m-lines cannot be negotiated.
		for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
			_, _ = pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		}
	}
	if onTrack != nil {
		pc.OnTrack(onTrack)
	}
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			_ = c.Send("candidate", candData{})
			return
		}
		j := cand.ToJSON()
		_ = c.Send("candidate", candData{Candidate: j.Candidate, SDPMid: j.SDPMid, SDPMLineIndex: j.SDPMLineIndex})
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil || pc.SetLocalDescription(offer) != nil {
		return
	}
	_ = c.Send("offer", sdpData{SDP: offer.SDP})
}

// AddTrackLive adds a local track during a call (a screen share) and renegotiates with a new offer.
func (c *Client) AddTrackLive(t webrtc.TrackLocal) (*webrtc.RTPSender, error) {
	pc := c.PC()
	if pc == nil {
		return nil, errNoCall
	}
	s, err := pc.AddTrack(t)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.senders = append(c.senders, s)
	c.mu.Unlock()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return nil, err
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		return nil, err
	}
	return s, c.Send("offer", sdpData{SDP: offer.SDP})
}
