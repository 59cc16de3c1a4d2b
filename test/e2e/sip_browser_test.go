package e2e

import (
	"context"
	"os"
	"testing"
	"time"
)

// A phone and a browser agent in one SFU call, in real Chromium: sipp calls in and echoes what it
// hears (-rtp_echo), so the agent page hears its own tone come back through the phone, both ways
// through the gateway's Opus <-> G.711 bridge (browser Opus -> PCMU -> phone -> PCMU -> Opus ->
// browser). When the phone hangs up, the page leaves the call.
func TestBrowserAgentTalksToPhone(t *testing.T) { // R1 R11
	if os.Getenv("VCC_SKIP_BROWSER") != "" {
		t.Skip("VCC_SKIP_BROWSER set")
	}
	needSipp(t)
	srv := startServer(t, withSIP(""))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	open := browser(t, ctx)
	agent := open(baseURL(srv) + "/agent.html?auto=1&user=agent1&fake=color:red&tone=660")
	waitPage(t, agent, "agent available", `window.vccState && window.vccState.agentState === 'available'`)

	phone := startSipp(t, ctx, freeUDPPort(t), "-sn", "uac", "-rtp_echo", "-d", "15000", "-s", "100", srv.SIPAddr)
	waitPage(t, agent, "agent in a call with the phone", `window.vccState.callState === 'connected'`)
	waitPage(t, agent, "agent hears its own tone echoed by the phone",
		`(() => { const p = window.vccProbe.tones([660, 1400]); return !!p && p[660] > 30 && p[1400] < p[660] - 20; })()`)
	phone.wait(t, ctx, "the phone's call") // it hangs up after 15 s
	waitPage(t, agent, "agent sees the call end", `window.vccState.callState !== 'connected'`)
}
