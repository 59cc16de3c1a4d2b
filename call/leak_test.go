package call

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Goroutine-leak checks.
//
// These do what go.uber.org/goleak's VerifyNone and VerifyTestMain do, restricted to this package:
// goleak is not a requirement of the module's go.mod (the committed go.mod has no
// go.uber.org/goleak line, so importing it fails with "updates to go.mod needed"), and this
// package's tests may only add test files. Once go.mod requires goleak, verifyNoLeaks can become
// goleak.VerifyNone(t) and TestMain goleak.VerifyTestMain(m).

// ourFrame marks a stack frame of this package (production or test code).
const ourFrame = "github.com/contactcenter/vcc/call."

// leakedGoroutines returns the stacks of goroutines that run code of this package, other than test
// goroutines themselves (testing.tRunner) and the caller.
func leakedGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 { // the caller
			continue
		}
		if strings.Contains(g, ourFrame) && !strings.Contains(g, "testing.tRunner(") {
			out = append(out, g)
		}
	}
	return out
}

// waitNoLeaks waits for this package's goroutines to exit and returns those that did not. Like goleak
// it polls with a growing back-off: goroutines that are already on their way out (a loop that just
// closed its done channel) need a few scheduler rounds.
func waitNoLeaks(limit time.Duration) []string {
	deadline := time.Now().Add(limit)
	wait := 10 * time.Microsecond
	for {
		leaked := leakedGoroutines()
		if len(leaked) == 0 || time.Now().After(deadline) {
			return leaked
		}
		runtime.Gosched()
		<-time.After(wait)
		if wait < 50*time.Millisecond {
			wait *= 2
		}
	}
}

// verifyNoLeaks fails t if a goroutine of this package outlives the test.
func verifyNoLeaks(t testing.TB) {
	t.Helper()
	if leaked := waitNoLeaks(waitLimit); len(leaked) > 0 {
		t.Errorf("%d goroutine(s) leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
	}
}

// TestMain checks, after every test and benchmark, that nothing of this package is still running.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitNoLeaks(waitLimit); len(leaked) > 0 {
			fmt.Fprintf(os.Stderr, "goroutine leak after all tests: %d goroutine(s):\n\n%s\n",
				len(leaked), strings.Join(leaked, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// The checker must see a leak, or it proves nothing.
func TestLeakCheckerSeesALeak(t *testing.T) {
	verifyNoLeaks(t) // whatever earlier tests left must be gone before counting
	stop := make(chan struct{})
	started := make(chan struct{})
	go func() { close(started); <-stop }()
	<-started
	if leaked := leakedGoroutines(); len(leaked) != 1 {
		t.Fatalf("checker found %d goroutines, want the 1 parked one:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
	}
	close(stop)
	verifyNoLeaks(t)
}
