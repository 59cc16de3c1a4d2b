// Command loadtest opens N concurrent 1:1 SFU calls against a running server (a customer and an
// agent pion client each sending synthetic VP8 video and Opus audio), measures forwarding over a
// window that excludes set-up, and reports throughput, loss, one-way latency and the server's CPU.
//
//	go build -o /tmp/loadtest ./cmd/loadtest
//	taskset -c 1 /tmp/loadtest --server http://127.0.0.1:8080 --pid $(pgrep -n vccserver) --calls 100 --duration 30s
//
// Exit status: 0 when every call came up, none ended or dropped early and loss stayed within
// --max-loss; 1 otherwise; 2 on bad usage. docs/BENCHMARKS.md records how to run it and what it measured.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/contactcenter/vcc/signaling"
)

// demoSecret is app.DemoSecret, the server's embedded default (a test keeps them equal). It is not
// imported: the tool would then link, and fail to build with, the whole server.
const demoSecret = "demo-only-secret-do-not-use-in-production-0123456789"

type config struct {
	server, secret, queue string
	pid, calls, setupConc int
	duration, ramp, grace time.Duration
	setupTimeout          time.Duration
	videoPPS, videoSize   int
	audioPPS, audioSize   int
	maxLoss               float64
	jsonOut, lean         bool
}

type loadTest struct {
	cfg     config
	api     *webrtc.API
	auth    *signaling.Auth
	run     string    // prefix of this run's user ids, so runs never collide on the server
	streams []*stream // index = stream id carried in payloads; fixed before any sender starts
	sendCtx context.Context

	mu      sync.Mutex
	parties []*party
}

func main() {
	var c config
	flag.StringVar(&c.server, "server", "http://127.0.0.1:8080", "server base URL")
	flag.IntVar(&c.pid, "pid", 0, "server process id, for its CPU time (0: not measured)")
	flag.IntVar(&c.calls, "calls", 100, "concurrent 1:1 calls (2 clients each)")
	flag.DurationVar(&c.duration, "duration", 30*time.Second, "measurement window, after every call receives media")
	flag.DurationVar(&c.ramp, "ramp", 0, "spread call set-up starts over this long")
	flag.IntVar(&c.setupConc, "setup-concurrency", 10, "calls being set up at once")
	flag.DurationVar(&c.setupTimeout, "setup-timeout", 30*time.Second, "per call, until both parties receive media")
	flag.DurationVar(&c.grace, "grace", time.Second, "wait after the window for packets still in flight")
	flag.StringVar(&c.secret, "secret", demoSecret, "server's token secret (tokens are minted locally)")
	flag.StringVar(&c.queue, "queue", "", "queue to join (default: the server's default queue)")
	flag.IntVar(&c.videoPPS, "video-pps", 100, "video packets per second per sender")
	flag.IntVar(&c.videoSize, "video-size", 1200, "video payload bytes")
	flag.IntVar(&c.audioPPS, "audio-pps", 50, "audio packets per second per sender")
	flag.IntVar(&c.audioSize, "audio-size", 160, "audio payload bytes")
	flag.Float64Var(&c.maxLoss, "max-loss", 0.1, "loss in percent above which the exit status is 1")
	flag.BoolVar(&c.jsonOut, "json", false, "print the report as JSON")
	flag.BoolVar(&c.lean, "lean", false, "clients without NACK, RTCP reports and transport-cc (cheaper load tool, lighter server work)")
	flag.Parse()
	if err := c.check(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	r, err := run(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
	}
	if r != nil {
		r.print(c.jsonOut)
		if r.Failed > 0 || r.Established == 0 || r.LossPct > c.maxLoss || r.CallsEnded > 0 || r.Disconnected > 0 {
			os.Exit(1)
		}
	}
	if err != nil {
		os.Exit(1)
	}
}

func (c *config) check() error {
	switch {
	case c.calls < 1 || c.setupConc < 1:
		return errors.New("--calls and --setup-concurrency must be >= 1")
	case c.videoPPS < 1 || c.audioPPS < 1 || c.videoPPS > 1000 || c.audioPPS > 1000:
		return errors.New("--video-pps and --audio-pps must be in 1..1000")
	case min(c.videoSize, c.audioSize) < payloadHdr+2 || max(c.videoSize, c.audioSize) > 1300:
		return fmt.Errorf("payload sizes must be in %d..1300 bytes", payloadHdr+2)
	case c.duration <= 0:
		return errors.New("--duration must be > 0")
	}
	return nil
}

func run(c config) (*report, error) {
	auth, err := signaling.NewAuth(c.secret)
	if err != nil {
		return nil, err
	}
	api, err := clientAPI(c.lean)
	if err != nil {
		return nil, err
	}
	sigCtx, stopSig := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSig()
	sendCtx, stopSend := context.WithCancel(context.Background())
	defer stopSend()
	lt := &loadTest{cfg: c, api: api, auth: auth, sendCtx: sendCtx, run: fmt.Sprintf("lt%x", time.Now().UnixNano()&0xffffff)}
	for i := range 4 * c.calls {
		lt.streams = append(lt.streams, &stream{id: uint32(i), video: i%2 == 0})
	}
	phase.Store(uint32(phaseWarmup))
	var stopping atomic.Bool
	defer func() {
		stopping.Store(true)
		stopSend()
		if err := lt.hangupAll(15 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
		}
	}()

	setupStart := time.Now()
	errs := lt.setupAll(sigCtx)
	setupTime := time.Since(setupStart)
	r := &report{Calls: c.calls, SetupSeconds: setupTime.Seconds(), VideoPPS: c.videoPPS, VideoSize: c.videoSize, AudioPPS: c.audioPPS, AudioSize: c.audioSize, Lean: c.lean}
	for _, e := range errs {
		if e != nil {
			r.Failed++
			if len(r.SetupErrors) < 5 {
				r.SetupErrors = append(r.SetupErrors, e.Error())
			}
		}
	}
	r.Established = c.calls - r.Failed
	if r.Established == 0 || sigCtx.Err() != nil {
		return r, errors.New("no measurement: no call established or interrupted")
	}
	lt.mu.Lock()
	for _, p := range lt.parties {
		go p.watch(&stopping)
	}
	lt.mu.Unlock()

	// The window. CPU counters are read right at both edges; the server scrape sits outside them.
	fwd0 := serverCounter(c.server, "vcc_forwarded_packets_total")
	drops0, host0, self0 := udpRcvbufErrors(), hostCPU(), selfCPU()
	srv0, srvErr := serverCPU(c.pid)
	t0 := time.Now()
	phase.Store(uint32(phaseMeasure))
	select {
	case <-time.After(c.duration):
	case <-sigCtx.Done():
	}
	phase.Store(uint32(phaseTail))
	wall := time.Since(t0)
	srv1, srvErr1 := serverCPU(c.pid)
	self1, host1, drops1 := selfCPU(), hostCPU(), udpRcvbufErrors()
	fwd1 := serverCounter(c.server, "vcc_forwarded_packets_total")
	lt.drain(c.grace)

	r.WindowSeconds = wall.Seconds()
	r.LoadCPUSeconds = self1 - self0
	r.HostBusy = busy(host0, host1)
	r.UDPRcvbufDrops = -1
	if drops0 >= 0 && drops1 >= 0 {
		r.UDPRcvbufDrops = drops1 - drops0
	}
	if srvErr == nil && srvErr1 == nil && c.pid > 0 {
		r.ServerCPUSeconds = srv1 - srv0
	}
	if fwd0 >= 0 && fwd1 >= 0 {
		r.ServerForwarded = int64(fwd1 - fwd0)
	}
	lt.collect(r)
	if sigCtx.Err() != nil {
		return r, errors.New("interrupted: the window was cut short")
	}
	return r, nil
}

// drain waits for packets stamped in the window that are still in flight: at least grace, then
// as long as the count still grows (a saturated load tool can lag by seconds), at most 10 s more.
func (lt *loadTest) drain(grace time.Duration) {
	time.Sleep(grace)
	last := lt.received()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
		n := lt.received()
		if n == last {
			return
		}
		last = n
	}
}

func (lt *loadTest) received() (n uint64) {
	for _, s := range lt.streams {
		s.mu.Lock()
		n += s.unique
		s.mu.Unlock()
	}
	return n
}

func serverCPU(pid int) (float64, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	return procCPU(pid)
}

// setupAll sets calls up with bounded concurrency, starting call k no earlier than k*ramp/N.
func (lt *loadTest) setupAll(ctx context.Context) []error {
	errs := make([]error, lt.cfg.calls)
	sem := make(chan struct{}, lt.cfg.setupConc)
	var wg sync.WaitGroup
	start := time.Now()
	for k := range lt.cfg.calls {
		if d := time.Until(start.Add(lt.cfg.ramp * time.Duration(k) / time.Duration(lt.cfg.calls))); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			errs[k] = ctx.Err()
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[k] = lt.setupCall(ctx, k)
		})
	}
	wg.Wait()
	return errs
}
