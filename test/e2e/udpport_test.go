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
