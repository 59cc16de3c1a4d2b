package call

import (
	"testing"

	"go.uber.org/goleak"
)

// Goroutine-leak checks: every center test verifies at cleanup (after Close) that no goroutine
// outlives it (harness), and TestMain checks once more after all tests and benchmarks.

// verifyNoLeaks fails t if a goroutine started by the test is still running. goleak retries with a
// back-off, so goroutines already on their way out (a loop that just closed its done channel) pass.
func verifyNoLeaks(t testing.TB) {
	t.Helper()
	goleak.VerifyNone(t)
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
