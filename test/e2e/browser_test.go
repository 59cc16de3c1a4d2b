package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/contactcenter/vcc/cmd/app"
)

// browser starts one headless Chromium with a fake camera and microphone (flags from
// shared/TESTING.md) and returns a function that opens a tab.
func browser(t *testing.T, ctx context.Context) func(url string) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not installed: apt-get install -y chromium (README: make test installs it)")
	}
	// Chromium's singleton socket path must stay short: t.TempDir() names are too long.
	home, err := os.MkdirTemp("", "vccb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(home) })
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.UserDataDir(filepath.Join(home, "profile")),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("use-fake-device-for-media-stream", true), chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
		// Chromium writes outside its profile: keep it in the test's temp dir.
		chromedp.Env("HOME="+home, "TMPDIR="+home, "XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+home, "XDG_RUNTIME_DIR="+home),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[chromedp.Void]("1")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() }) // runs before the RemoveAll above
	return func(url string) context.Context {
		tab, _ := chromedp.NewContext(bctx)
		if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
			t.Fatalf("open %s: %v", url, err)
		}
		return tab
	}
}

// waitPage polls a JavaScript predicate in the page until it is true.
func waitPage(t *testing.T, tab context.Context, what, predicate string) {
	t.Helper()
	if _, err := chromedp.Run(tab, chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		state, _ := chromedp.Run(tab, chromedp.Evaluate[string]("JSON.stringify({state: window.vccState, stats: window.__stats})"))
		t.Fatalf("%s: %v; page state %s", what, err, state)
	}
}

// TestBrowserCustomerAndAgentSeeAndHearEachOther: the customer page and the agent page, in real
// Chromium with its fake camera and microphone, are routed into one SFU call; each page decodes the
// other's video and receives its audio.
func TestBrowserCustomerAndAgentSeeAndHearEachOther(t *testing.T) {
	if os.Getenv("VCC_SKIP_BROWSER") != "" {
		t.Skip("VCC_SKIP_BROWSER set")
	}
	browserCall(t, startServer(t), nil)
}

// TestBrowserFastPath: the same call with the fast path on (webrtc.fast_path): Chromium's media
// is forwarded below pion both ways, and Chromium's bandwidth estimate, which lives on the
// transport-cc feedback the fast path now builds, climbs past its 300 kbit/s start.
func TestBrowserFastPath(t *testing.T) {
	if os.Getenv("VCC_SKIP_BROWSER") != "" {
		t.Skip("VCC_SKIP_BROWSER set")
	}
	srv := startServer(t, func(c *app.Config) { c.WebRTC.UDPPort, c.WebRTC.FastPath = freeUDPPort(t), true })
	browserCall(t, srv, func(ctx context.Context, customer, agent context.Context) {
		fwd0 := metricValue(t, srv, "vcc_forwarded_packets_total")
		in0, out0 := metricValue(t, srv, "vcc_fastpath_received_total"), metricValue(t, srv, "vcc_fastpath_sent_total")
		const estimate = `(async () => { let b = 0; (await window.vcc.pc.getStats()).forEach(r => {
			if (r.type === 'candidate-pair' && r.nominated && r.availableOutgoingBitrate) b = Math.max(b, r.availableOutgoingBitrate); }); window.__bwe = b; return true; })()`
		for name, tab := range map[string]context.Context{"customer": customer, "agent": agent} {
			if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`setInterval(() => `+estimate+`, 200); true`)); err != nil {
				t.Fatal(err)
			}
			waitPage(t, tab, name+"'s bandwidth estimate climbs past 600 kbit/s", `window.__bwe > 600000`)
		}
		// Once both connections are up, what the call forwards goes the fast way, in and out.
		// (The three counters are read one after the other: a window of 500 packets keeps
		// that skew small.)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for metricValue(t, srv, "vcc_forwarded_packets_total")-fwd0 < 500 {
			select {
			case <-ctx.Done():
				t.Fatal("the call forwarded under 500 packets")
			case <-tick.C:
			}
		}
		fwd := metricValue(t, srv, "vcc_forwarded_packets_total") - fwd0
		in := metricValue(t, srv, "vcc_fastpath_received_total") - in0
		out := metricValue(t, srv, "vcc_fastpath_sent_total") - out0
		if in < 0.95*fwd || out < 0.95*fwd {
			t.Errorf("the fast path carried %v packets in and %v out of %v forwarded", in, out, fwd)
		}
		if f := metricValue(t, srv, "vcc_fastpath_decrypt_failed_total"); f != 0 {
			t.Errorf("%v packets failed to decrypt on the fast path", f)
		}
	})
}

// browserCall runs a customer page and an agent page into one call on srv, checks that each
// decodes the other's video and receives its audio, runs more (when not nil) and hangs up.
func browserCall(t *testing.T, srv *app.Server, more func(ctx, customer, agent context.Context)) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	open := browser(t, ctx)
	base := baseURL(srv)

	agent := open(base + "/agent.html?auto=1&user=agent1&fake=1")
	waitPage(t, agent, "agent available", `window.vccState && window.vccState.agentState === 'available'`)
	customer := open(base + "/customer.html?auto=1&name=Carla&fake=1")

	// inboundStats is asynchronous; the poll predicate reads a snapshot a page timer keeps fresh.
	const sampleStats = `window.__stats = null; setInterval(async () => { window.__stats = await window.vcc.inboundStats(); }, 100); true`
	const mediaArrived = `window.__stats && window.__stats.videoWidth > 0 && window.__stats.framesDecoded > 0 && window.__stats.audioPacketsReceived > 0 && document.getElementById('remote').videoWidth > 0`
	for name, tab := range map[string]context.Context{"customer": customer, "agent": agent} {
		waitPage(t, tab, name+" in call", `window.vcc && window.vccState.callState === 'connected'`)
		if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](sampleStats)); err != nil {
			t.Fatal(err)
		}
	}
	for name, tab := range map[string]context.Context{"customer": customer, "agent": agent} {
		waitPage(t, tab, name+" receives video and audio", mediaArrived)
	}

	if more != nil {
		more(ctx, customer, agent)
	}

	// The customer hangs up: the agent's page leaves the call.
	if _, err := chromedp.Run(customer, chromedp.Evaluate[chromedp.Void](`window.vcc.hangup()`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	waitPage(t, agent, "agent sees the call end", `window.vccState.callState !== 'connected' && window.vccState.pc === 'none'`)
}
