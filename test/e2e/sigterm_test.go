package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/contactcenter/vcc/client"
)

// binary builds the server once per test and returns its path.
func buildServer(t *testing.T, ctx context.Context) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vccserver")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "../../cmd/vccserver").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// runBinary starts the real server on a free port with data dir and returns its base URL.
func runBinary(t *testing.T, ctx context.Context, bin, data string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, "--listen", "127.0.0.1:0", "--data", data, "--sip", "127.0.0.1:0")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addrRE := regexp.MustCompile(`open http://([0-9.:]+)/`)
	sc := bufio.NewScanner(stderr)
	var base string
	for sc.Scan() {
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			base = "http://" + m[1]
			break
		}
	}
	if base == "" {
		t.Fatal("server did not print its address")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return base, cmd
}

func dialAt(t *testing.T, ctx context.Context, base, q string) *client.Client {
	t.Helper()
	tok, err := client.DemoToken(ctx, base, q)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, base, tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestSIGTERMEndsCallsAndExits runs the real binary: on SIGTERM it ends the call in progress (both
// parties told "shutdown"), stops serving and exits 0.
func TestSIGTERMEndsCallsAndExits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base, cmd := runBinary(t, ctx, buildServer(t, ctx), t.TempDir())
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz before shutdown: %v %v", resp, err)
	}
	cust, agent := dialAt(t, ctx, base, "role=customer&name=Late"), dialAt(t, ctx, base, "user=agent2")
	connectCall(t, ctx, cust, agent)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{cust, agent} {
		m, err := c.WaitFor(ctx, "call_ended", nil)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Reason string }
		_ = json.Unmarshal(m.Data, &e)
		if e.Reason != "shutdown" {
			t.Fatalf("call ended with reason %q, want shutdown", e.Reason)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("server exit: %v", err)
	}
}

// TestCrashKeepsAcknowledgedRecords (R25): the server is SIGKILLed mid-call; restarted on the same
// data directory it still has every record acknowledged before the kill, and the call is marked
// ended by server restart.
func TestCrashKeepsAcknowledgedRecords(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bin, data := buildServer(t, ctx), t.TempDir()
	base, cmd := runBinary(t, ctx, bin, data)
	cust, agent := dialAt(t, ctx, base, "role=customer&name=Crash"), dialAt(t, ctx, base, "user=agent1")
	id := connectCall(t, ctx, cust, agent)
	// Acknowledged: hold, resume, hold again, and a media change.
	for _, step := range []struct{ typ string }{{"hold"}, {"resume"}, {"hold"}} {
		if err := agent.Request(ctx, step.typ, struct{}{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cust.Request(ctx, "media_state", map[string]bool{"audio": true, "video": false}); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	base2, _ := runBinary(t, ctx, bin, data)
	recs := timelineAt(t, base2, id)
	want := []string{"call_started", "party_joined", "party_joined", "hold", "resume", "hold", "media", "call_ended"}
	i := 0
	for _, r := range recs {
		if i < len(want) && r.Type == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Fatalf("after the crash the record lacks %q; got:\n%s", want[i], dump(recs))
	}
	last := recs[len(recs)-1]
	if last.Type != "call_ended" || last.Data["reason"] != "server_restart" {
		t.Fatalf("last record %+v, want call_ended by server_restart", last)
	}
}
