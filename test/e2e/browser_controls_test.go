package e2e

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAgentCallControls drives the agent page's call controls in real Chromium: the page
// consults a helper agent through its consult form, starts the conference when its button becomes
// enabled from call_state.actions, shows hold disabled during the conference (R16), and after
// hanging up shows the wrap-up form with the queue's reasons (R2, R27); submitting one makes the
// agent available again.
func TestBrowserAgentCallControls(t *testing.T) {
	if os.Getenv("VCC_SKIP_BROWSER") != "" {
		t.Skip("VCC_SKIP_BROWSER set")
	}
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// R3: an SFU call refuses a third party, so the admin switches new calls to the MCU (R6).
	admin := dial(t, ctx, srv, "user=admin1")
	if err := admin.Request(ctx, "video_mode", map[string]string{"mode": "mcu"}); err != nil {
		t.Fatal(err)
	}

	open := browser(t, ctx)
	base := baseURL(srv)
	agent := open(base + "/agent.html?auto=1&user=agent1&fake=1")
	waitPage(t, agent, "agent available", `window.vccState && window.vccState.agentState === 'available'`)
	customer := open(base + "/customer.html?auto=1&name=Carla&fake=1")
	for name, tab := range map[string]context.Context{"customer": customer, "agent": agent} {
		waitPage(t, tab, name+" in call", `window.vcc && window.vccState.callState === 'connected' && window.vccState.parties.length === 2`)
	}
	waitPage(t, agent, "agent controls the call", `window.vccState.parties.some(p => p.id === 'agent1' && p.as === 'controlling_agent') &&
		document.querySelector('#parties li[data-party="agent1"] .role').textContent === 'controlling agent'`)

	// The helper: a Go client as agent2, made available only now so the customer went to agent1.
	helper := dial(t, ctx, srv, "user=agent2")
	if err := helper.Request(ctx, "agent_state", map[string]string{"state": "available"}); err != nil {
		t.Fatal(err)
	}

	// R8, R9: the agent consults agent2 through the page's form; the consult button is enabled
	// from the server's actions.
	waitPage(t, agent, "consult enabled", `!document.getElementById('btn-consult').disabled && window.vccState.actions.includes('consult')`)
	waitPage(t, agent, "conference disabled before a consult", `document.getElementById('btn-conference').disabled && document.getElementById('btn-conference').title !== ''`)
	if err := chromedp.Do(agent,
		chromedp.SetValue(chromedp.ID("target-kind"), "agent"),
		chromedp.SetValue(chromedp.ID("target"), "agent2"),
		chromedp.Click(chromedp.ID("btn-consult")),
	); err != nil {
		t.Fatal(err)
	}
	m, err := helper.WaitFor(ctx, "call_offered", nil)
	if err != nil {
		t.Fatal(err)
	}
	var offered struct {
		CallID string `json:"call_id"`
		Kind   string `json:"kind"`
	}
	_ = json.Unmarshal(m.Data, &offered)
	if offered.Kind != "consult" {
		t.Fatalf("agent2 offered a %q call, want consult", offered.Kind)
	}
	// R9, R15: while the helper rings, the customer is held; the page shows it.
	waitPage(t, agent, "consult ringing shown", `window.vccState.consult && window.vccState.consult.target === 'agent2' &&
		!document.getElementById('consult-status').hidden && !document.getElementById('btn-cancel-consult').disabled`)
	waitPage(t, customer, "customer held", `window.vccState.parties.some(p => p.as === 'customer' && p.held)`)
	if err := helper.Request(ctx, "accept", map[string]string{"call_id": offered.CallID}); err != nil {
		t.Fatal(err)
	}

	// The helper answered: conference becomes enabled from actions; clicking it joins everyone.
	waitPage(t, agent, "conference enabled", `window.vccState.actions.includes('conference') && !document.getElementById('btn-conference').disabled &&
		window.vccState.consult && window.vccState.consult.helper === 'agent2'`)
	if err := chromedp.Do(agent, chromedp.Click(chromedp.ID("btn-conference"))); err != nil {
		t.Fatal(err)
	}
	waitPage(t, customer, "customer sees three parties in conference", `window.vccState.parties.length === 3 && window.vccState.conference &&
		!window.vccState.parties.some(p => p.held)`)
	// R23: the customer is never told about supervisors; the agent page lists roles.
	waitPage(t, agent, "agent page shows the conferenced agent", `window.vccState.conference &&
		document.querySelector('#parties li[data-party="agent2"]') !== null &&
		document.querySelector('#parties li[data-party="agent2"] .role').textContent === 'conferenced agent'`)

	// R16: hold is refused during a conference, so the button is disabled and says why.
	waitPage(t, agent, "hold disabled in conference (R16)", `(() => {
		const b = document.getElementById('btn-hold');
		return b.disabled && !window.vccState.actions.includes('hold') && /R16/.test(b.title);
	})()`)

	// The agent hangs up (R12: control passes to agent2); the page shows the wrap-up form with the
	// queue's reasons and a countdown (R2, R27).
	waitPage(t, agent, "hang-up enabled", `!document.getElementById('btn-hangup').disabled`)
	if err := chromedp.Do(agent, chromedp.Click(chromedp.ID("btn-hangup"))); err != nil {
		t.Fatal(err)
	}
	waitPage(t, agent, "wrap-up form with the queue's reasons", `(() => {
		const w = window.vccState.wrapup;
		if (!w || window.vccState.agentState !== 'wrapup' || document.getElementById('wrapup').hidden) return false;
		const shown = [...document.querySelectorAll('#wrapup-reason option')].map(o => o.value);
		return w.reasons.length > 0 && JSON.stringify(shown) === JSON.stringify(w.reasons) && shown.includes('follow_up') &&
			/\d+s left/.test(document.getElementById('wrapup-countdown').textContent);
	})()`)
	waitPage(t, customer, "control passed to agent2 (R12)", `window.vccState.parties.length === 2 &&
		window.vccState.parties.some(p => p.id === 'agent2' && p.as === 'controlling_agent')`)

	if err := chromedp.Do(agent,
		chromedp.SetValue(chromedp.ID("wrapup-reason"), "follow_up"),
		chromedp.Click(chromedp.ID("btn-wrapup")),
	); err != nil {
		t.Fatal(err)
	}
	waitPage(t, agent, "agent available after wrap-up", `window.vccState.agentState === 'available' && document.getElementById('wrapup').hidden &&
		window.vccState.wrapup === null && window.vccState.lastError === null`)

	// R25, R27: the wrap-up reason the page submitted is in the call's record.
	found := false
	for _, r := range timeline(t, srv, offered.CallID) {
		if r.Type == "wrapup" && r.Actor == "agent1" && r.Data["reason"] == "follow_up" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no wrapup record by agent1 with reason follow_up in %s", dump(timeline(t, srv, offered.CallID)))
	}
}

// click clicks the elements (by id, or by CSS selector when sel starts with "#" or ".") in order.
func click(t *testing.T, tab context.Context, sels ...string) {
	t.Helper()
	for _, sel := range sels {
		var err error
		if sel[0] == '#' || sel[0] == '.' {
			err = chromedp.Do(tab, chromedp.Click(chromedp.CSS(sel)))
		} else {
			err = chromedp.Do(tab, chromedp.Click(chromedp.ID(sel)))
		}
		if err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
	}
}

// setValue sets an input's or a select's value (by CSS selector).
func setValue(t *testing.T, tab context.Context, sel, value string) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.SetValue(chromedp.CSS(sel), value)); err != nil {
		t.Fatalf("set %s: %v", sel, err)
	}
}

// TestBrowserSupervisorAdminAndAgentTools drives the other pages and tools: the admin page sets the
// video mode through its form and reads call records and a timeline over REST; the agent page shares
// its screen (stopped by the server under R20 when the customer turns video off, and then refused
// under R19), shows a refusal's code and message, records and tags, holds and resumes, ends the call,
// and schedules, moves and cancels a callback; the supervisor page monitors the call, barges in and
// stops.
func TestBrowserSupervisorAdminAndAgentTools(t *testing.T) {
	if os.Getenv("VCC_SKIP_BROWSER") != "" {
		t.Skip("VCC_SKIP_BROWSER set")
	}
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	open := browser(t, ctx)
	base := baseURL(srv)

	// R6: the admin page reads the mode and sets it over the protocol.
	admin := open(base + "/admin.html?user=admin1")
	waitPage(t, admin, "admin reads the mode", `window.vccState.videoMode === 'sfu' && document.getElementById('mode-current').textContent === 'sfu'`)
	setValue(t, admin, "#mode-select", "auto")
	click(t, admin, "btn-mode")
	waitPage(t, admin, "admin set auto", `window.vccState.videoMode === 'auto' && document.getElementById('mode-current').textContent === 'auto'`)

	agent := open(base + "/agent.html?auto=1&user=agent1&fake=1")
	waitPage(t, agent, "agent available", `window.vccState.agentState === 'available'`)
	customer := open(base + "/customer.html?auto=1&name=Carla&fake=1")
	for name, tab := range map[string]context.Context{"customer": customer, "agent": agent} {
		waitPage(t, tab, name+" has media", `window.vccState.callState === 'connected' && window.vccState.pc === 'connected'`)
	}

	// R28: a refusal shows its code and message; nothing changes. No SIP gateway in tests.
	setValue(t, agent, "#target-kind", "number")
	setValue(t, agent, "#target", "+15551234")
	click(t, agent, "btn-consult")
	waitPage(t, agent, "refusal shown", `!document.getElementById('error').hidden &&
		document.querySelector('#error .code').textContent === 'gateway_unavailable' &&
		document.querySelector('#error .message').textContent !== '' && window.vccState.consult === null`)
	click(t, agent, "#error .dismiss")

	// R19, R20: the agent shares a (canvas) screen as a second video track; the customer receives it.
	waitPage(t, agent, "share enabled", `!document.getElementById('btn-screenshare').disabled`)
	click(t, agent, "btn-screenshare")
	waitPage(t, agent, "sharing", `window.vccState.screenSharing && window.vccState.screen === 'agent1'`)
	waitPage(t, customer, "customer receives the screen", `document.querySelectorAll('#remote-extra figure:not([hidden]) video').length === 1 && !document.getElementById('remote-extra').hidden`)
	click(t, customer, "btn-video")
	waitPage(t, agent, "share stopped by the server (R20)", `!window.vccState.screenSharing && window.vccState.screen === '' &&
		/R20/.test(document.getElementById('call-note').textContent) && !document.getElementById('call-note').hidden`)
	waitPage(t, agent, "share refused without video (R19)", `document.getElementById('btn-screenshare').disabled &&
		/R19/.test(document.getElementById('btn-screenshare').title)`)
	waitPage(t, customer, "customer's screen tile gone", `document.querySelectorAll('#remote-extra figure:not([hidden]) video').length === 0 && document.getElementById('remote-extra').hidden`)

	// R23: the supervisor lists the call, monitors silently, barges in, stops.
	sup := open(base + "/supervisor.html?user=super1&fake=1")
	waitPage(t, sup, "calls listed", `window.vccState.activeCalls.length === 1 && document.querySelectorAll('#calls tr').length === 1`)
	click(t, sup, "#calls .btn-monitor")
	waitPage(t, sup, "monitoring with media", `window.vccState.monitoring && !window.vccState.monitoring.barge &&
		window.vccState.pc === 'connected' && window.vccState.remoteTracks > 0`)
	waitPage(t, agent, "agent sees the supervisor", `!document.getElementById('supervisors').hidden &&
		/monitoring/.test(document.getElementById('supervisors').textContent)`)
	waitPage(t, customer, "customer is not told", `window.vccState.supervisors.length === 0`)
	click(t, sup, "btn-barge")
	waitPage(t, agent, "agent sees the barge-in", `window.vccState.supervisors.length === 1 && window.vccState.supervisors[0].barge &&
		/barged in/.test(document.getElementById('supervisors').textContent)`)
	waitPage(t, sup, "supervisor sends media", `window.vccState.monitoring.barge && window.vccState.localMedia !== 'pending'`)
	click(t, sup, "btn-hangup")
	waitPage(t, sup, "stopped", `window.vccState.monitoring === null && window.vccState.pc === 'none'`)
	waitPage(t, agent, "supervisor gone", `window.vccState.supervisors.length === 0 && document.getElementById('supervisors').hidden`)

	// R26: record on demand, then a tag; R15: hold and resume; R13: end the call for everyone.
	waitPage(t, agent, "tag disabled until recording", `document.getElementById('btn-tag').disabled && /R26/.test(document.getElementById('btn-tag').title)`)
	click(t, agent, "btn-record")
	waitPage(t, agent, "recording", `window.vccState.recording && !document.getElementById('btn-tag').disabled`)
	setValue(t, agent, "#tag-text", "asked about a refund")
	click(t, agent, "btn-tag")
	waitPage(t, agent, "tag added", `document.getElementById('tag-text').value === ''`)
	click(t, agent, "btn-hold")
	waitPage(t, customer, "customer on hold", `window.vccState.parties.some(p => p.as === 'customer' && p.held) &&
		/On hold/.test(document.getElementById('call-status').textContent)`)
	waitPage(t, agent, "resume enabled", `!document.getElementById('btn-resume').disabled && document.getElementById('btn-hold').disabled`)
	click(t, agent, "btn-resume")
	waitPage(t, customer, "customer resumed", `!window.vccState.parties.some(p => p.held)`)
	callID, err := chromedp.Run(agent, chromedp.Evaluate[string](`window.vccState.callId`))
	if err != nil {
		t.Fatal(err)
	}
	click(t, agent, "btn-end-call")
	waitPage(t, customer, "call ended for the customer", `window.vccState.callState === ''`)
	waitPage(t, agent, "wrap-up shown", `!document.getElementById('wrapup').hidden && window.vccState.agentState === 'wrapup'`)

	// R30: a personal callback for the customer just served, moved, then cancelled.
	waitPage(t, agent, "callback form prefilled", `document.getElementById('cb-customer').value !== '' && document.getElementById('cb-due').value !== ''`)
	setValue(t, agent, "#cb-reason", "send the quote")
	click(t, agent, "btn-callback")
	waitPage(t, agent, "callback listed", `window.vccState.callbacks.length === 1 && document.querySelectorAll('#callback-list tr').length === 1 &&
		window.vccState.callbacks[0].reason === 'send the quote' && window.vccState.callbacks[0].personal`)
	setValue(t, agent, "#callback-list .cb-move-due", "2031-01-02T10:30")
	click(t, agent, "#callback-list .cb-move")
	waitPage(t, agent, "callback moved", `window.vccState.callbacks.length === 1 &&
		new Date(window.vccState.callbacks[0].due).getTime() === new Date('2031-01-02T10:30').getTime()`)
	click(t, agent, "#callback-list .cb-cancel")
	waitPage(t, agent, "callback cancelled", `window.vccState.callbacks.length === 0 && !document.getElementById('callback-empty').hidden`)
	click(t, agent, "btn-wrapup")
	waitPage(t, agent, "available again", `window.vccState.agentState === 'available'`)

	// R25: the admin page lists the call's record and shows its timeline (REST with the bearer token).
	click(t, admin, "btn-records")
	waitPage(t, admin, "records listed", `window.vccState.records.length === 1 && document.querySelectorAll('#records tr').length === 1`)
	click(t, admin, "#records .btn-timeline")
	waitPage(t, admin, "timeline shown", `!document.getElementById('timeline-panel').hidden &&
		document.getElementById('timeline-call').textContent === `+strconv.Quote(callID)+` &&
		['screenshare', 'supervisor', 'recording', 'tag', 'hold', 'resume', 'call_ended', 'wrapup'].every(t => window.vccState.timeline.some(r => r.type === t))`)
	for name, tab := range map[string]context.Context{"admin": admin, "supervisor": sup} {
		waitPage(t, tab, name+" shows no error", `window.vccState.lastError === null`)
	}
}
