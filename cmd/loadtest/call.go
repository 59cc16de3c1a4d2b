package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/client"
)

// party is one simulated browser: a signaling client sending one video and one audio stream and
// receiving the other party's.
type party struct {
	lt           *loadTest
	idx          int // streams 2*idx (video) and 2*idx+1 (audio) are ours
	name         string
	c            *client.Client
	gotV, gotA   atomic.Bool
	isReady      atomic.Bool
	ready        chan struct{} // closed once both kinds arrived from the other party
	foreign      atomic.Uint64 // packets not from a known other party's stream
	ended, errs  atomic.Uint64 // unexpected call_ended / error messages after set-up
	disconnected atomic.Bool
}

func (p *party) gotMedia(video bool) {
	if p.isReady.Load() {
		return
	}
	if video {
		p.gotV.Store(true)
	} else {
		p.gotA.Store(true)
	}
	if p.gotV.Load() && p.gotA.Load() && p.isReady.CompareAndSwap(false, true) {
		close(p.ready)
	}
}

// clientAPI is what a browser brings to the server's forwarding cost: NACK both ways, RTCP
// reports, and a transport-cc sequence on every packet (the server answers with TWCC feedback).
// The stats interceptor of client.LoopbackAPI is left out: it only costs the load tool CPU.
// AES-GCM comes first, as in browsers and the server. lean drops the interceptors: a cheaper load
// tool, but a lighter server workload too (no TWCC feedback, no NACKs, no receiver reports).
func clientAPI(lean bool) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if !lean {
		if err := webrtc.ConfigureNack(me, ir); err != nil {
			return nil, err
		}
		if err := webrtc.ConfigureRTCPReports(ir); err != nil {
			return nil, err
		}
		if err := webrtc.ConfigureTWCCHeaderExtensionSender(me, ir); err != nil {
			return nil, err
		}
	}
	se := webrtc.SettingEngine{}
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// dial connects party idx with a locally minted token and starts its senders (they stay idle
// until negotiation binds the tracks).
func (lt *loadTest) dial(ctx context.Context, idx int, role call.Role) (*party, error) {
	name := fmt.Sprintf("%s-%s%d", lt.run, role, idx/2)
	tok, err := lt.auth.Mint(call.UserRef{ID: name, Name: name, Role: role}, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	c, err := client.Dial(ctx, lt.cfg.server, tok, lt.api)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &party{lt: lt, idx: idx, name: name, c: c, ready: make(chan struct{})}
	lt.mu.Lock()
	lt.parties = append(lt.parties, p)
	lt.mu.Unlock()
	v := &synthTrack{id: "video-" + name, streamID: name, mime: webrtc.MimeTypeVP8, kind: webrtc.RTPCodecTypeVideo}
	a := &synthTrack{id: "audio-" + name, streamID: name, mime: webrtc.MimeTypeOpus, kind: webrtc.RTPCodecTypeAudio}
	c.AddTrack(v)
	c.AddTrack(a)
	c.OnTrack(p.receive)
	go v.send(lt.sendCtx, lt.streams[2*idx], lt.cfg.videoPPS, lt.cfg.videoSize, 90000)
	go a.send(lt.sendCtx, lt.streams[2*idx+1], lt.cfg.audioPPS, lt.cfg.audioSize, 48000)
	return p, nil
}

// setupCall routes customer k and agent k into a call the way the e2e tests do. Under concurrent
// set-up the router may pair this customer with another worker's agent (longest idle first); that
// is harmless: every agent accepts the one offer it gets and streams are told apart by id.
func (lt *loadTest) setupCall(ctx context.Context, k int) error {
	ctx, cancel := context.WithTimeout(ctx, lt.cfg.setupTimeout)
	defer cancel()
	cust, err := lt.dial(ctx, 2*k, call.Customer)
	if err != nil {
		return err
	}
	agent, err := lt.dial(ctx, 2*k+1, call.Agent)
	if err != nil {
		return err
	}
	if err := agent.c.Request(ctx, "agent_state", map[string]string{"state": "available"}); err != nil {
		return fmt.Errorf("%s available: %w", agent.name, err)
	}
	join := map[string]string{}
	if lt.cfg.queue != "" {
		join["queue"] = lt.cfg.queue
	}
	if err := cust.c.Request(ctx, "join", join); err != nil {
		return fmt.Errorf("%s join: %w", cust.name, err)
	}
	m, err := agent.c.WaitFor(ctx, "call_offered", nil)
	if err != nil {
		return fmt.Errorf("%s: %w", agent.name, err)
	}
	var offered struct {
		CallID string `json:"call_id"`
	}
	_ = json.Unmarshal(m.Data, &offered)
	if err := agent.c.Request(ctx, "accept", map[string]string{"call_id": offered.CallID}); err != nil {
		return fmt.Errorf("%s accept %s: %w", agent.name, offered.CallID, err)
	}
	for _, p := range []*party{cust, agent} {
		select {
		case <-p.ready:
		case <-ctx.Done():
			return fmt.Errorf("%s: no media from the other party (video %v, audio %v): %w", p.name, p.gotV.Load(), p.gotA.Load(), ctx.Err())
		}
		for _, s := range p.c.Senders() {
			go drainRTCP(s.Read)
		}
	}
	return nil
}

// watch counts what should not happen once the call is up: the call ending, protocol errors, the
// socket dropping.
func (p *party) watch(stopping *atomic.Bool) {
	for {
		select {
		case m := <-p.c.Events():
			if stopping.Load() {
				continue
			}
			switch m.Type {
			case "call_ended":
				p.ended.Add(1)
			case "error":
				p.errs.Add(1)
			}
		case <-p.c.Done():
			if !stopping.Load() {
				p.disconnected.Store(true)
			}
			return
		}
	}
}

// hangupAll ends every call from its agent's side, then closes every client, in parallel and
// bounded in time so a wedged server cannot hang the tool.
func (lt *loadTest) hangupAll(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	lt.mu.Lock()
	parties := append([]*party(nil), lt.parties...)
	lt.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range parties {
		if p.idx%2 == 1 && p.isReady.Load() {
			wg.Go(func() { _ = p.c.Request(ctx, "hangup", struct{}{}) })
		}
	}
	wg.Wait()
	for _, p := range parties {
		wg.Go(func() { _ = p.c.Close() })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("closing clients: %w", ctx.Err())
	}
}
