package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/contactcenter/vcc/mcu/compose"
)

// TestBrowserAutoModeMovesLiveCall (R5): in auto mode a 1:1 call between two Chromium pages starts
// on the SFU (each page receives the other's own 640x480 camera); when the agent brings in a helper
// and starts the conference, the same pages, on the same RTCPeerConnections and without a reload,
// receive the 1280x720 composite with the three colours in join order.
func TestBrowserAutoModeMovesLiveCall(t *testing.T) { // R5
	if os.Getenv("VCC_SKIP_BROWSER") != "" {
		t.Skip("VCC_SKIP_BROWSER set")
	}
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	admin := dial(t, ctx, srv, "user=admin1")
	if err := admin.Request(ctx, "video_mode", map[string]string{"mode": "auto"}); err != nil {
		t.Fatal(err)
	}
	open := browser(t, ctx)
	base := baseURL(srv)
	agent := open(base + "/agent.html?auto=1&user=agent1&" + fakeMedia(1))
	waitPage(t, agent, "agent available", `window.vccState.agentState === 'available'`)
	customer := open(base + "/customer.html?auto=1&name=Carla&" + fakeMedia(0))
	for name, tab := range map[string]context.Context{"customer": customer, "agent": agent} {
		waitPage(t, tab, name+" on the SFU", `window.vccState.callState === 'connected' && window.vccState.media === 'sfu' &&
			window.vcc.pc && window.vcc.pc.connectionState === 'connected'`)
		// Mark the page and its connection: a reload or a new RTCPeerConnection would lose them.
		if _, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](`window.__before = window.vcc.pc; window.__marker = 'r5'`)); err != nil {
			t.Fatal(err)
		}
	}
	// SFU: the customer receives the agent's own camera (the fake canvas is 640x480).
	waitProbe(t, customer, "customer sees the agent's camera", fmt.Sprintf(`(() => { const c = window.vccProbe.colourAt(0.5, 0.5);
		return c && c.w === 640 && Math.abs(c.g - %d) < %d && c.r < 100; })()`, colours[1].g, colourTolerance), "window.vccProbe.colourAt(0.5, 0.5)")

	// The helper's page accepts its first offer itself (?auto=1): the consult.
	helper := open(base + "/agent.html?auto=1&user=agent2&" + fakeMedia(2))
	waitPage(t, helper, "helper available", `window.vccState.agentState === 'available'`)
	setValue(t, agent, "#target-kind", "agent")
	setValue(t, agent, "#target", "agent2")
	click(t, agent, "btn-consult")
	waitPage(t, agent, "conference enabled", `!document.getElementById('btn-conference').disabled`)
	click(t, agent, "btn-conference")

	equal3 := []*rgb{&colours[0], &colours[1], &colours[2]}
	for name, tab := range map[string]context.Context{"customer": customer, "agent": agent} {
		waitPage(t, tab, name+" moved to the MCU", `window.vccState.media === 'mcu' && window.vccState.conference`)
		pageSeesTiles(t, tab, name, compose.LayoutEqual, -1, equal3...)
		waitPage(t, tab, name+" kept its page and connection", `window.__marker === 'r5' && window.vcc.pc === window.__before &&
			window.vcc.pc.connectionState === 'connected'`)
	}
	pageSeesTiles(t, helper, "helper", compose.LayoutEqual, -1, equal3...)
}
