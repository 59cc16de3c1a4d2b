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
		"(each phone's voice encoded to Opus, the other's decoded)")
	_ = fs.Parse(args)
	if *mode != "queue" && *mode != "pairs" && *mode != "agents" {
		return fmt.Errorf("mode %q: queue, pairs or agents", *mode)
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
	gw.ServeInbound(&pairer{music: music, pairs: *mode != "queue", opus: *mode == "agents"})
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
	mu      sync.Mutex
	waiting call.Endpoint
	n       int
}

func (p *pairer) Enqueue(_ context.Context, _ call.UserRef, _ string, ep call.Endpoint, _ call.Notifier) (call.CallID, error) {
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
	if p.waiting == nil || p.waiting.Context().Err() != nil {
		p.waiting = ep
		return id, nil
	}
	a := p.waiting
	p.waiting = nil
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
