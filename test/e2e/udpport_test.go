package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/contactcenter/vcc/cmd/app"
)

// With webrtc.udp_port set, a call's media flows both ways and both parties' ICE ends on that one
// server port (what an operator opens in the firewall), not on a port per party.
func TestSingleMediaPort(t *testing.T) {
	port := freeUDPPort(t)
	srv := startServer(t, func(c *app.Config) { c.WebRTC.UDPPort = port })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cust := newParty(t, ctx, srv, "role=customer&name=Una", 0)
	agent := newParty(t, ctx, srv, "user=agent1", 1)
	connectCall(t, ctx, cust.c, agent.c)
	waitHeard(t, ctx, "agent hears the customer", agent, cust, 25)
	waitHeard(t, ctx, "customer hears the agent", cust, agent, 25)
	waitPictures(t, ctx, agent, 5)
	waitPictures(t, ctx, cust, 5)
	for name, p := range map[string]*party{"customer": cust, "agent": agent} {
		senders := p.c.Senders()
		if len(senders) == 0 || senders[0].Transport() == nil {
			t.Fatalf("%s has no transport", name)
		}
		pair, err := senders[0].Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			t.Fatalf("%s: no selected candidate pair: %v", name, err)
		}
		if int(pair.Remote.Port) != port {
			t.Errorf("%s's media goes to server port %d, want the configured %d", name, pair.Remote.Port, port)
		}
	}
}

// With webrtc.fast_path, a call's media flows both ways below pion's track API (decrypted,
// forwarded and re-encrypted on the port's read goroutine), and it is that path that carried it.
func TestFastPath(t *testing.T) {
	port := freeUDPPort(t)
	srv := startServer(t, func(c *app.Config) { c.WebRTC.UDPPort, c.WebRTC.FastPath = port, true })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cust := newParty(t, ctx, srv, "role=customer&name=Una", 0)
	agent := newParty(t, ctx, srv, "user=agent1", 1)
	connectCall(t, ctx, cust.c, agent.c)
	waitHeard(t, ctx, "agent hears the customer", agent, cust, 100)
	waitHeard(t, ctx, "customer hears the agent", cust, agent, 100)
	waitPictures(t, ctx, agent, 5)
	waitPictures(t, ctx, cust, 5)
	// Most of what the call forwarded went the fast way, both in and out (the first packets of
	// each stream go through pion, which announces the track).
	fwd := metricValue(t, srv, "vcc_forwarded_packets_total")
	if in, out := metricValue(t, srv, "vcc_fastpath_received_total"), metricValue(t, srv, "vcc_fastpath_sent_total"); in < 0.8*fwd || out < 0.8*fwd {
		t.Errorf("the fast path carried %v packets in and %v out of %v forwarded", in, out, fwd)
	}
	if f := metricValue(t, srv, "vcc_fastpath_decrypt_failed_total"); f != 0 {
		t.Errorf("%v packets failed to decrypt on the fast path", f)
	}
}
