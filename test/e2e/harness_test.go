package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/contactcenter/vcc/client"
	"github.com/contactcenter/vcc/cmd/app"
)

// startServer runs a whole server in-process on a free loopback port with a fresh data directory;
// it is stopped when the test ends. Each opt may change the configuration before the start.
func startServer(t *testing.T, opts ...func(*app.Config)) *app.Server {
	t.Helper()
	srv := startServerNoCleanup(t, opts...)
	t.Cleanup(func() { stopServer(t, srv) })
	return srv
}

func stopServer(t *testing.T, srv *app.Server) {
	if t.Failed() && os.Getenv("E2E_STACKS") != "" {
		// What every goroutine waits on, before the stop unblocks it: for a test that timed out
		// on something that never happened.
		st := make([]byte, 4<<20)
		t.Logf("goroutines at failure:\n%s", st[:runtime.Stack(st, true)])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func startServerNoCleanup(t *testing.T, opts ...func(*app.Config)) *app.Server {
	t.Helper()
	cfg, err := app.LoadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	cfg.Data = t.TempDir()
	cfg.SIP.Listen = "off" // sip_test.go starts servers with the gateway on a free port
	cfg.Calls.OfferTimeout = 20 * time.Second
	cfg.Signaling.MessagesPerSecond = 200
	if os.Getenv("E2E_FAST_PATH") != "" {
		// Every test's browser media on the fast path (a test may still choose otherwise).
		cfg.WebRTC.UDPPort, cfg.WebRTC.FastPath = freeUDPPort(t), true
	}
	for _, o := range opts {
		o(&cfg)
	}
	var log *slog.Logger
	if os.Getenv("E2E_LOG") == "" {
		// The server's log is shown only when the test fails: it says which streams carried what.
		// Cleanups run last-registered first, so this one runs after the server has stopped.
		buf := &logBuffer{}
		log = slog.New(slog.NewTextHandler(buf, nil))
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("server log:\n%s", buf.String())
			}
		})

	}
	srv, err := app.Start(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// metricValue reads one unlabelled metric from GET /metrics.
func metricValue(t *testing.T, s *app.Server, name string) float64 {
	t.Helper()
	resp, err := http.Get(baseURL(s) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("metric %s not exported", name)
	return 0
}

func baseURL(s *app.Server) string { return "http://" + s.Addr }

// dial connects a client with a demo token for query ("user=agent1", "role=customer&name=X").
func dial(t *testing.T, ctx context.Context, s *app.Server, query string) *client.Client {
	t.Helper()
	tok, err := client.DemoToken(ctx, baseURL(s), query)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, baseURL(s), tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// connectCall brings customer and agent into one connected call through queue routing.
func connectCall(t *testing.T, ctx context.Context, customer, agent *client.Client) string {
	t.Helper()
	if err := agent.Request(ctx, "agent_state", map[string]string{"state": "available"}); err != nil {
		t.Fatalf("agent available: %v", err)
	}
	if err := customer.Request(ctx, "join", map[string]string{}); err != nil {
		t.Fatalf("join: %v", err)
	}
	m, err := agent.WaitFor(ctx, "call_offered", nil)
	if err != nil {
		t.Fatal(err)
	}
	id := callID(m)
	if err := agent.Request(ctx, "accept", map[string]string{"call_id": id}); err != nil {
		t.Fatalf("accept: %v", err)
	}
	return id
}

// callID is the call_id of a server message.
func callID(m client.Message) string {
	var d struct {
		CallID string `json:"call_id"`
	}
	_ = json.Unmarshal(m.Data, &d)
	return d.CallID
}

// rtpTracks returns a VP8 and an Opus track a Go client sends.
func rtpTracks(t *testing.T, id string) (*webrtc.TrackLocalStaticRTP, *webrtc.TrackLocalStaticRTP) {
	t.Helper()
	v, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video-"+id, "stream-"+id)
	if err != nil {
		t.Fatal(err)
	}
	a, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio-"+id, "stream-"+id)
	if err != nil {
		t.Fatal(err)
	}
	return v, a
}

// logBuffer keeps a test server's log in memory: its first and its last logHalf bytes, so that a
// long test keeps both how its streams started and the summaries logged when they closed.
type logBuffer struct {
	mu         sync.Mutex
	head, tail []byte
	cut        int // bytes dropped between them
}

const logHalf = 512 << 10

func (l *logBuffer) Write(p []byte) (int, error) {
	written := len(p)
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := min(logHalf-len(l.head), len(p)); n > 0 && len(l.tail) == 0 {
		l.head = append(l.head, p[:n]...)
		p = p[n:]
	}
	l.tail = append(l.tail, p...)
	if over := len(l.tail) - logHalf; over > 0 {
		l.cut += over
		l.tail = append(l.tail[:0], l.tail[over:]...)
	}
	return written, nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cut > 0 {
		return fmt.Sprintf("%s\n[... %d bytes left out ...]\n%s", l.head, l.cut, l.tail)
	}
	return string(l.head) + string(l.tail)
}
