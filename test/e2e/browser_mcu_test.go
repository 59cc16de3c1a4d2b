package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/contactcenter/vcc/mcu/compose"
)

// browserTones are the pages' fake voices (?tone=), far apart for a 8192-point FFT: customer,
// controlling agent, helper.
var browserTones = []int{440, 1000, 1800}

// fakeMedia is the query that makes a page send party i's colour (a canvas) and tone.
func fakeMedia(i int) string {
	c := colours[i]
	return fmt.Sprintf("fake=color:%%23%02x%02x%02x&tone=%d", c.r, c.g, c.b, browserTones[i])
}

// waitProbe polls a predicate like waitPage; on failure it also reports diag (a JS expression).
func waitProbe(t *testing.T, tab context.Context, what, predicate, diag string) {
	t.Helper()
	if _, err := chromedp.Run(tab, chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		got, _ := chromedp.Run(tab, chromedp.Evaluate[string]("JSON.stringify({probe: "+diag+", state: window.vccState})"))
		t.Fatalf("%s: %v; page %s", what, err, got)
	}
}

// colourSample is the JS for the colours a page's composite shows at the tile centres of layout.
func colourSample(layout string, n, big int) string {
	var pts []string
	for i := range n {
		x, y := tileCentre(layout, n, big, i)
		pts = append(pts, fmt.Sprintf("window.vccProbe.colourAt(%.4f, %.4f)", x, y))
	}
	return "[" + strings.Join(pts, ", ") + "]"
}

// Chromium's own capture-to-display path (canvas, VP8, decoder, drawImage) shifts solid colours by
// up to about 50 per channel, the same through the SFU: (30, 200, 40) arrives as (34, 246, 36), (220,
// 30, 30) as (214, 0, 19). The parties' colours are far more apart than that.
const colourTolerance = 60

// pageSeesTiles waits until the page's composite (1280x720) shows cols at the tile centres of
// layout (a nil colour: that tile is not checked).
func pageSeesTiles(t *testing.T, tab context.Context, who, layout string, big int, cols ...*rgb) {
	t.Helper()
	var want []string
	for _, c := range cols {
		if c == nil {
			want = append(want, "null")
		} else {
			want = append(want, fmt.Sprintf("[%d, %d, %d]", c.r, c.g, c.b))
		}
	}
	pred := fmt.Sprintf(`(() => {
		const want = [%s];
		return %s.every((c, i) => c && c.w === 1280 && c.h === 720 && (want[i] === null ||
			Math.abs(c.r - want[i][0]) < %d && Math.abs(c.g - want[i][1]) < %[3]d && Math.abs(c.b - want[i][2]) < %[3]d));
	})()`, strings.Join(want, ", "), colourSample(layout, len(cols), big), colourTolerance)
	waitProbe(t, tab, who+" sees "+layout, pred, colourSample(layout, len(cols), big))
}

// pageHearsOthers waits until the page hears the other pages' tones loudly and its own at most
// faintly (mix-minus). Measured: the others' tones 50-90 dB over the median bin; the own tone
// 15-50 dB, the level of frequencies nobody sends (700, 1400 Hz: codec noise), 30-50 dB below the
// others'. A mix that returned a party's own voice would have it as loud as the others.
func pageHearsOthers(t *testing.T, tab context.Context, who string, own int) {
	t.Helper()
	probe := fmt.Sprintf("window.vccProbe.tones([%d, %d, %d, 700, 1400])", browserTones[0], browserTones[1], browserTones[2])
	var others []string
	for i, f := range browserTones {
		if i != own {
			others = append(others, fmt.Sprint(f))
		}
	}
	pred := fmt.Sprintf(`(() => {
		const p = %s;
		if (!p) return false;
		const others = [%s].map((f) => p[f]);
		return others.every((db) => db > 30) && p[%d] < Math.min(...others) - 20;
	})()`, probe, strings.Join(others, ", "), browserTones[own])
	waitProbe(t, tab, who+" hears the others, not itself", pred, probe)
	got, _ := chromedp.Run(tab, chromedp.Evaluate[string]("JSON.stringify("+probe+")"))
	t.Logf("%s hears (dB over the median bin): %s", who, got)
}

// TestBrowserMCUThreeParties runs an MCU conference between three real Chromium pages, each
// sending a solid colour and its own tone: the call is built by clicking the agent pages' buttons
// (consult, accept, conference); every page's single remote video is the equal composite with the
// three colours in join order and its audio is the mix of the other two (R21); one viewer's layout
// choice changes only its picture; a screen share from the agent page is stopped by the server
// when the customer turns video off on its page (R20), the customer's tile becomes its name plate,
// and the pages show layout and sharing blocked and refused with the rules' codes (R19, R21).
func TestBrowserMCUThreeParties(t *testing.T) { // R19 R20 R21 R22
	if os.Getenv("VCC_SKIP_BROWSER") != "" {
		t.Skip("VCC_SKIP_BROWSER set")
	}
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	admin := dial(t, ctx, srv, "user=admin1")
	if err := admin.Request(ctx, "video_mode", map[string]string{"mode": "mcu"}); err != nil {
		t.Fatal(err)
	}

	open := browser(t, ctx)
	base := baseURL(srv)
	agent := open(base + "/agent.html?auto=1&user=agent1&" + fakeMedia(1))
	// The helper signs in but is not available yet, so that the customer's call goes to agent1.
	helper := open(base + "/agent.html?user=agent2&" + fakeMedia(2))
	waitPage(t, agent, "agent available", `window.vccState.agentState === 'available'`)
	customer := open(base + "/customer.html?auto=1&name=Carla&" + fakeMedia(0))
	for name, tab := range map[string]context.Context{"customer": customer, "agent": agent} {
		waitPage(t, tab, name+" in call", `window.vccState.callState === 'connected' && window.vccState.parties.length === 2`)
	}
	waitPage(t, helper, "helper signed in", `window.vccState.ws === 'open' && !document.getElementById('btn-available').disabled`)
	click(t, helper, "btn-available")
	waitPage(t, helper, "helper available", `window.vccState.agentState === 'available'`)

	// R8, R9: agent1 consults agent2 through its form; agent2 accepts on its page; agent1 starts
	// the conference.
	waitPage(t, agent, "consult enabled", `!document.getElementById('btn-consult').disabled`)
	setValue(t, agent, "#target-kind", "agent")
	setValue(t, agent, "#target", "agent2")
	click(t, agent, "btn-consult")
	waitPage(t, helper, "consult offered", `!document.getElementById('offer').hidden && window.vccState.offer && window.vccState.offer.kind === 'consult'`)
	click(t, helper, "btn-accept")
	waitPage(t, agent, "conference enabled", `!document.getElementById('btn-conference').disabled`)
	click(t, agent, "btn-conference")
	pages := []struct {
		who string
		tab context.Context
	}{{"customer", customer}, {"agent", agent}, {"helper", helper}}
	for _, p := range pages {
		waitPage(t, p.tab, p.who+" in the MCU conference", `window.vccState.conference && window.vccState.media === 'mcu' &&
			window.vccState.parties.length === 3 && !window.vccState.parties.some((p) => p.held) && window.vccState.pc === 'connected' &&
			document.getElementById('remote').srcObject.getVideoTracks().length === 1 &&
			!document.getElementById('layout-box').hidden && !document.getElementById('layout').disabled`)
	}

	// R21 equal: every page's one remote video is the composite, tiles in join order; each page
	// hears the two others and not itself.
	equal3 := []*rgb{&colours[0], &colours[1], &colours[2]}
	for _, p := range pages {
		pageSeesTiles(t, p.tab, p.who, compose.LayoutEqual, -1, equal3...)
	}
	for i, p := range pages {
		pageHearsOthers(t, p.tab, p.who, i)
	}

	// R21: the helper picks "customer large" on its page; the others keep the equal picture.
	setValue(t, helper, "#layout", compose.LayoutMaxCustomer)
	waitPage(t, helper, "layout chosen", `window.vccState.layout === 'max_customer' && window.vccState.lastError === null`)
	pageSeesTiles(t, helper, "helper", compose.LayoutMaxCustomer, 0, equal3...)
	for _, p := range pages[:2] {
		pageSeesTiles(t, p.tab, p.who, compose.LayoutEqual, -1, equal3...)
	}

	// R22: agent1 shares its (canvas) screen: the large tile for every viewer.
	waitPage(t, agent, "share enabled", `!document.getElementById('btn-screenshare').disabled`)
	click(t, agent, "btn-screenshare")
	waitPage(t, agent, "sharing", `window.vccState.screenSharing && window.vccState.screen === 'agent1'`)
	shareBig := `(() => { const c = window.vccProbe.colourAt(%.4f, %.4f); return c && c.r > 200 && c.g > 200 && c.b > 200; })()`
	// Below the fake screen's moving square: its light background.
	st := compose.Tiles(compose.LayoutScreenShare, 4, 0, 1280, 720)[0]
	x, y := float64(st.X+st.W/2)/1280, float64(st.Y+st.H*4/5)/720
	for _, p := range pages {
		waitProbe(t, p.tab, p.who+" sees the share large", fmt.Sprintf(shareBig, x, y), fmt.Sprintf("window.vccProbe.colourAt(%.4f, %.4f)", x, y))
	}

	// R20: the customer turns video off on its page: the share stops, the pages say why.
	click(t, customer, "btn-video")
	waitPage(t, agent, "share stopped by the server (R20)", `!window.vccState.screenSharing && window.vccState.screen === '' &&
		/R20/.test(document.getElementById('call-note').textContent) && !document.getElementById('call-note').hidden`)
	waitPage(t, customer, "customer told why", `window.vccState.screen === '' && /R20/.test(document.getElementById('call-note').textContent)`)

	// R21: on the agents' pages the customer's tile is no longer red but its name plate: slate
	// (45, 52, 64) around the name, sampled above the centred name. Each keeps its layout.
	red := colours[0]
	for _, p := range pages[1:] {
		layout, big := compose.LayoutEqual, -1
		if p.who == "helper" {
			layout, big = compose.LayoutMaxCustomer, 0
		}
		r := compose.Tiles(layout, 3, big, 1280, 720)[0]
		probe := fmt.Sprintf("window.vccProbe.colourAt(%.4f, %.4f)", float64(r.X+r.W/2)/1280, float64(r.Y+r.H/6)/720)
		waitProbe(t, p.tab, p.who+" sees the customer's name plate", fmt.Sprintf(`(() => { const c = %s;
			return c && c.w === 1280 && !(Math.abs(c.r - %d) < %d && Math.abs(c.g - %d) < %[3]d && Math.abs(c.b - %d) < %[3]d) &&
				Math.max(c.r, c.g, c.b) < 100; })()`, probe, red.r, colourTolerance, red.g, red.b), probe)
		pageSeesTiles(t, p.tab, p.who, layout, big, nil, &colours[1], &colours[2])
	}

	// R19, R21: the pages show layout and sharing blocked with the rules' codes, and the server
	// refuses them with those codes (shown in the page's error box).
	for _, p := range pages {
		waitPage(t, p.tab, p.who+" shows layout blocked", `(() => { const s = document.getElementById('layout');
			return s.disabled && /layout_needs_all_video/.test(s.title) && /R21/.test(s.title); })()`)
	}
	for _, p := range pages {
		waitPage(t, p.tab, p.who+" shows sharing blocked", `(() => { const b = document.getElementById('btn-screenshare');
			return b.disabled && /screenshare_needs_all_video/.test(b.title) && /R19/.test(b.title); })()`)
	}
	refused := func(expr, code string) {
		t.Helper()
		got, err := chromedp.Run(agent, chromedp.Evaluate[string](expr+`.then(() => 'accepted', (e) => e.code)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if got != code {
			t.Fatalf("%s: got %q, want %s", expr, got, code)
		}
		waitPage(t, agent, code+" shown", `!document.getElementById('error').hidden && document.querySelector('#error .code').textContent === '`+code+`'`)
	}
	refused(`window.vcc.layout('max_agent')`, "layout_needs_all_video")
	refused(`window.vcc.screenshare(true)`, "screenshare_needs_all_video")
	waitPage(t, agent, "still not sharing", `!window.vccState.screenSharing && window.vccState.screen === ''`)
}
