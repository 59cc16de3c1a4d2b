package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
	srv := startServer(t)
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

	// The customer hangs up: the agent's page leaves the call.
	if _, err := chromedp.Run(customer, chromedp.Evaluate[chromedp.Void](`window.vcc.hangup()`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	waitPage(t, agent, "agent sees the call end", `window.vccState.callState !== 'connected' && window.vccState.pc === 'none'`)
}
