package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/gateway"
	"github.com/contactcenter/vcc/mcu"
	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/moh"
)

// serveCmd runs a gateway with no call center: callers hear the music on hold, or are bridged in
// pairs. It isolates the gateway's cost from the rest of the server's.
func serveCmd(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("sip", "127.0.0.1:5070", "SIP listen address")
	mode := fs.String("mode", "pairs", "queue: every caller hears the music; pairs: callers are bridged two by two, "+
		"phone to phone (8 kHz G.711 both ways); agents: bridged two by two through Opus, as a phone with a browser agent is "+
		"(each phone's voice encoded to Opus, the other's decoded); mcu: three by three in MCU rooms, each hearing the mix of "+
		"the other two (48 kHz PCM both ways, no Opus)")
	_ = fs.Parse(args)
	if *mode != "queue" && *mode != "pairs" && *mode != "agents" && *mode != "mcu" {
		return fmt.Errorf("mode %q: queue, pairs, agents or mcu", *mode)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	music, err := moh.New()
	if err != nil {
		return err
	}
	defer music.Close()
	gw, err := gateway.New(gateway.Config{Listen: *addr, Transports: []string{"udp"}}, gateway.WithLogger(log.With("component", "sip")))
	if err != nil {
		return err
	}
	group := 2
	if *mode == "mcu" {
		group = 3
	}
	gw.ServeInbound(&pairer{music: music, pairs: *mode != "queue", opus: *mode == "agents", group: group, mcu: *mode == "mcu", log: log})
	fmt.Fprintf(os.Stderr, "siploadtest: SIP gateway on %s (mode %s)\n", gw.Addr(), *mode)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	<-ctx.Done()
	return gw.Close()
}

// pairer is a gateway.Queuer standing in for the call center.
type pairer struct {
	music   *moh.Source
	pairs   bool
	opus    bool // hear each other as Opus RTP only
	mcu     bool // groups meet in an MCU room (audio mix-minus)
	group   int  // callers per group
	log     *slog.Logger
	mu      sync.Mutex
	waiting []call.Endpoint
	n       int
	seen    map[call.PartyID]bool
}

func (p *pairer) Enqueue(_ context.Context, _ call.UserRef, _ string, ep call.Endpoint, _ call.Notifier) (call.CallID, error) {
	if p.mcu {
		// sipp calls from one number: as the call center does, a number already in a call makes
		// the gateway give the party an id of its own (a room needs them distinct).
		p.mu.Lock()
		dup := p.seen[ep.ID()]
		if p.seen == nil {
			p.seen = map[call.PartyID]bool{}
		}
		p.seen[ep.ID()] = true
		p.mu.Unlock()
		if dup {
			return "", call.ErrInvalidState
		}
	}
	if err := ep.Attach(p.music); err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	id := call.CallID(fmt.Sprintf("c%d", p.n))
	if !p.pairs {
		return id, nil
	}
	live := p.waiting[:0]
	for _, w := range p.waiting {
		if w.Context().Err() == nil {
			live = append(live, w)
		}
	}
	p.waiting = append(live, ep)
	if len(p.waiting) < p.group {
		return id, nil
	}
	g := p.waiting
	p.waiting = nil
	if p.mcu {
		return id, p.meet(id, g)
	}
	a := g[0]
	// Each hears the other over the music (which stays attached underneath, as on hold).
	as, eps := a.Sources()[0], ep.Sources()[0]
	if p.opus {
		as, eps = rtpOnly{as}, rtpOnly{eps}
	}
	if err := a.Attach(eps); err != nil {
		return "", err
	}
	if err := ep.Attach(as); err != nil {
		return "", err
	}
	return id, nil
}

// rtpOnly offers a source's Opus RTP and nothing else, as a browser's microphone does: the phone
// hearing it decodes Opus, and the phone it comes from encodes it.
type rtpOnly struct{ media.Source }

// meet puts a group of phones in one MCU room, each hearing the others' mix; the room closes when
// they have all hung up.
func (p *pairer) meet(id call.CallID, eps []call.Endpoint) error {
	room, err := mcu.New(id, p.log)
	if err != nil {
		return err
	}
	rt := call.Routing{}
	for _, ep := range eps {
		if err := room.Join(ep); err != nil {
			_ = room.Close()
			return err
		}
		var from []call.PartyID
		for _, o := range eps {
			if o != ep {
				from = append(from, o.ID())
			}
		}
		rt[ep.ID()] = call.Reception{From: from}
	}
	if err := room.Apply(rt); err != nil {
		_ = room.Close()
		return err
	}
	go func() {
		for _, ep := range eps {
			<-ep.Context().Done()
		}
		_ = room.Close()
	}()
	return nil
}
