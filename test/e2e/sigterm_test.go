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

// TestSIGTERMEndsCallsAndExits runs the real binary: on SIGTERM it ends the call in progress (both
// parties told "shutdown"), stops serving and exits 0.
func TestSIGTERMEndsCallsAndExits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "vccserver")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "../../cmd/vccserver").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, bin, "--listen", "127.0.0.1:0", "--data", t.TempDir())
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
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
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz before shutdown: %v %v", resp, err)
	}

	dialBin := func(q string) *client.Client {
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
	cust, agent := dialBin("role=customer&name=Late"), dialBin("user=agent2")
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
