package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/vcc/client"
	"github.com/contactcenter/vcc/cmd/app"
	"github.com/contactcenter/vcc/media/audio"
)

// Phones are sipp (a real SIP user agent that streams RTP from pcap files) against the in-process
// server with its SIP gateway on a free port; agents and customers are the Go clients of
// media_test.go. shared/TESTING.md has the sipp pitfalls these helpers avoid.

const pcapDir = "/usr/share/sip-tester" // sipp's shipped g711a.pcap and dtmf_2833_*.pcap

// needSipp skips when sipp or its pcaps are missing (scripts/deps.sh installs sip-tester).
func needSipp(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Skip("sipp not installed (apt-get install sip-tester)")
	}
	if _, err := os.Stat(filepath.Join(pcapDir, "g711a.pcap")); err != nil {
		t.Skip("sipp pcaps not found in " + pcapDir)
	}
}

// withSIP turns the gateway on at a free loopback port, with trunk (a sipp "external number")
// where numbers are dialled, if not empty.
func withSIP(trunk string) func(*app.Config) {
	return func(c *app.Config) {
		c.SIP.Listen = "127.0.0.1:0"
		c.SIP.Trunk.URI = trunk
	}
}

// freeUDPPort is a loopback UDP port for sipp, free a moment ago, with the three after it free too
// (sipp's media takes port+2). It is taken below the kernel's ephemeral range: the server binds
// its sockets (RTP, RTCP on an RTP port + 1, ICE) in that range, and one of them must not take a
// port between our check and sipp's bind.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil && v > 12000 {
				low = v
			}
		}
	}
	for range 200 {
		p := low - 10000 + rand.IntN(9990)
		free := true
		for i := range 4 {
			c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p+i))
			if err != nil {
				free = false
				break
			}
			_ = c.Close()
		}
		if free {
			return p
		}
	}
	t.Fatal("no free UDP port below the ephemeral range")
	return 0
}

// sippRun is one sipp process; wait returns its exit error (nil: every call passed its scenario).
type sippRun struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan error
}

// startSipp runs sipp at port (SIP) and port+2 (RTP) in a temp dir where pcap/ holds the shipped
// pcaps, for one call with a 30 s limit; args name the scenario and the target.
func startSipp(t *testing.T, ctx context.Context, port int, args ...string) *sippRun {
	t.Helper()
	return startSippIn(t, ctx, t.TempDir(), port, args...)
}

// startSippIn is startSipp with dir as sipp's working directory (where a test may have put files
// its scenario plays).
func startSippIn(t *testing.T, ctx context.Context, dir string, port int, args ...string) *sippRun {
	t.Helper()
	if err := os.Symlink(pcapDir, filepath.Join(dir, "pcap")); err != nil {
		t.Fatal(err)
	}
	base := []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)),
		"-m", "1", "-nostdin", "-timeout", "30", "-timeout_error", "-trace_err", "-error_file", filepath.Join(dir, "errors.log")}
	cmd := exec.CommandContext(ctx, "sipp", append(base, args...)...)
	cmd.Dir = dir
	r := &sippRun{cmd: cmd, out: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-r.done
		if t.Failed() {
			errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
			t.Logf("sipp %v:\n%s\n%s", args, tail(r.out.Bytes(), 3000), tail(errs, 3000))
		}
	})
	return r
}

// wait waits for sipp to finish its call and fails the test unless the scenario passed.
func (r *sippRun) wait(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("%s: sipp failed: %v", what, err)
		}
	case <-ctx.Done():
		t.Fatalf("%s: sipp did not finish", what)
	}
}

// waitFailed waits for sipp to finish and fails the test if its scenario passed: what should have
// been refused (what) got through.
func (r *sippRun) waitFailed(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		if err == nil {
			t.Fatalf("%s got through: sipp's scenario passed", what)
		}
	case <-ctx.Done():
		t.Fatalf("%s: sipp did not finish", what)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// scenario is the path of a test/sipp scenario.
func scenario(name string) string {
	p, _ := filepath.Abs(filepath.Join("..", "sipp", name))
	return p
}

// waitEnded waits for call_ended and returns its reason and who ended the call.
func waitEnded(t *testing.T, ctx context.Context, c *client.Client, what string) (string, string) {
	t.Helper()
	m, err := c.WaitFor(ctx, "call_ended", nil)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var e struct{ Reason, By string }
	_ = json.Unmarshal(m.Data, &e)
	return e.Reason, e.By
}

// A phone calls in (sipp streaming the shipped PCMA recording), waits in the queue, an agent
// accepts like for a browser customer and hears the phone; the phone hangs up and the call ends.
func TestSIPPhoneCallsIn(t *testing.T) { // R1 R11 R13
	needSipp(t)
	srv := startServer(t, withSIP(""))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	agent := newParty(t, ctx, srv, "user=agent1", 1)
	if err := agent.c.Request(ctx, "agent_state", map[string]string{"state": "available"}); err != nil {
		t.Fatal(err)
	}
	phone := startSipp(t, ctx, freeUDPPort(t), "-sn", "uac_pcap", "-s", "100", srv.SIPAddr)
	m, err := agent.c.WaitFor(ctx, "call_offered", nil)
	if err != nil {
		t.Fatal(err)
	}
	var offer struct {
		CallID   string `json:"call_id"`
		Customer struct{ ID, Name string }
	}
	_ = json.Unmarshal(m.Data, &offer)
	if offer.Customer.ID != "tel:sipp" || offer.Customer.Name != "sipp" {
		t.Fatalf("offered customer %+v, want the phone tel:sipp", offer.Customer)
	}
	if err := agent.c.Request(ctx, "accept", map[string]string{"call_id": offer.CallID}); err != nil {
		t.Fatal(err)
	}
	// The recording is speech: sound that is none of the parties' tones.
	waitCount(t, ctx, "agent hears the phone", &agent.other, 50)
	// The gateway's counters are on /metrics for the admins' dashboards.
	if legs, in, out := metricValue(t, srv, "vcc_sip_legs"), metricValue(t, srv, "vcc_sip_rtp_received_total"), metricValue(t, srv, "vcc_sip_rtp_sent_total"); legs != 1 || in < 50 || out < 10 {
		t.Fatalf("metrics: vcc_sip_legs %v, received %v, sent %v", legs, in, out)
	}
	if reason, by := waitEnded(t, ctx, agent.c, "phone hangs up"); reason != "hangup" || by != "tel:sipp" {
		t.Fatalf("call ended with %q by %q, want hangup by tel:sipp", reason, by)
	}
	phone.wait(t, ctx, "phone call")
}

// The agent consults an external number (R8): sipp answers through the trunk, joins as a
// non-agent participant and echoes what it hears, so the agent hears its own voice come back
// through the phone leg (both directions of the G.711 bridge and the MCU mix). The agent then
// starts the three-party conference: the customer hears the agent and its own voice echoed by the
// phone, the agent the customer; ending the conference hangs the phone up (BYE).
func TestSIPConsultExternalNumber(t *testing.T) { // R8 R9 R13
	needSipp(t)
	trunkPort := freeUDPPort(t)
	srv := startServer(t, withSIP("sip:127.0.0.1:"+strconv.Itoa(trunkPort)))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	admin := dial(t, ctx, srv, "user=admin1")
	if err := admin.Request(ctx, "video_mode", map[string]string{"mode": "mcu"}); err != nil { // R3: three parties
		t.Fatal(err)
	}
	number := startSipp(t, ctx, trunkPort, "-sf", scenario("uas_echo.xml"), "-rtp_echo")
	cust := newParty(t, ctx, srv, "role=customer&name=Wanda", 0)
	agent := newParty(t, ctx, srv, "user=agent1", 1)
	connectCall(t, ctx, cust.c, agent.c)
	waitHeard(t, ctx, "agent hears the customer", agent, cust, 10)

	if err := agent.c.Request(ctx, "consult", map[string]string{"kind": "number", "target": "5550100"}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, agent.c, "the number answers", func(st map[string]any) bool { return partyAs(st, "tel:5550100") == "participant" })
	waitHeard(t, ctx, "agent hears its voice echoed by the phone", agent, agent, 25)
	waitCount(t, ctx, "held customer hears music", &cust.other, 10)
	// R9, R15: the consult is private. The held customer is not heard by the helper (the echo
	// would bring it back to the agent) and does not hear the agent (directly or echoed).
	heardCust, custHeard := agent.heardFrom(cust).Load(), cust.heardFrom(agent).Load()
	waitHeard(t, ctx, "agent goes on hearing its echo", agent, agent, 25)
	if n, m := agent.heardFrom(cust).Load()-heardCust, cust.heardFrom(agent).Load()-custHeard; n > 0 || m > 0 {
		t.Fatalf("during the consult the agent heard the held customer in %d packets, the customer the agent in %d", n, m)
	}

	// Three-party conference (R9): the phone hears the mix of the other two and echoes it. Each
	// party's own voice reaches it only through the phone (the mix leaves its direct voice out),
	// so hearing it proves audio to and from the phone for both, within the conference. (The
	// customer and the agent also reach each other twice, directly and through the echo, and two
	// copies of a pure tone cancel when the loop delays one by half a period: those paths are
	// checked before the consult, and by the MCU tests, where nothing echoes.)
	if err := agent.c.Request(ctx, "conference", struct{}{}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, cust.c, "customer in the conference", func(st map[string]any) bool {
		return st["conference"] == true && partyAs(st, "tel:5550100") == "participant"
	})
	waitHeard(t, ctx, "customer hears its voice back through the phone", cust, cust, 25)
	waitHeard(t, ctx, "agent hears its voice back through the phone", agent, agent, 25)
	// Off hold: the customer hears the conference, no longer the music.
	music := cust.other.Load()
	waitHeard(t, ctx, "customer keeps hearing the conference", cust, cust, 25)
	if n := cust.other.Load() - music; n > 2 {
		t.Fatalf("the customer still heard %d packets of music in the conference", n)
	}

	// The controlling agent ends the conference for everyone (R13): the phone gets BYE.
	if err := agent.c.Request(ctx, "end_call", struct{}{}); err != nil {
		t.Fatal(err)
	}
	number.wait(t, ctx, "the number is hung up") // the scenario passes only on our BYE
	if reason, by := waitEnded(t, ctx, cust.c, "conference ended"); by != "agent1" {
		t.Fatalf("customer's call ended with %q by %q, want by agent1", reason, by)
	}
}

// The agent sees the external number dialled, then ringing (its 180), and gives up while it rings:
// sipp's scenario passes only if it receives CANCEL (and the call goes on with the customer).
func TestSIPCancelWhileRinging(t *testing.T) { // R9 R18
	needSipp(t)
	trunkPort := freeUDPPort(t)
	srv := startServer(t, withSIP("sip:127.0.0.1:"+strconv.Itoa(trunkPort)))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	number := startSipp(t, ctx, trunkPort, "-sf", scenario("uas_ring_cancel.xml"))
	cust := newParty(t, ctx, srv, "role=customer&name=Wanda", 0)
	agent := newParty(t, ctx, srv, "user=agent1", 1)
	connectCall(t, ctx, cust.c, agent.c)
	// A consultative transfer (R18) is allowed in sfu mode.
	if err := agent.c.Request(ctx, "consult", map[string]any{"kind": "number", "target": "5550199", "transfer": true}); err != nil {
		t.Fatal(err)
	}
	// Dialling while the network tries the number (100 Trying), ringing only once its 180 is in.
	waitState(t, ctx, agent.c, "dialling", func(st map[string]any) bool {
		c, _ := st["consult"].(map[string]any)
		return c != nil && c["dialing"] == true && c["ringing"] == false
	})
	waitState(t, ctx, agent.c, "ringing", func(st map[string]any) bool {
		c, _ := st["consult"].(map[string]any)
		return c != nil && c["ringing"] == true && c["dialing"] == nil
	})
	if err := agent.c.Request(ctx, "cancel_consult", struct{}{}); err != nil {
		t.Fatal(err)
	}
	// Promptly: without the cancel the dial would only give up at the offer timeout (20 s).
	soon, cancelSoon := context.WithTimeout(ctx, 5*time.Second)
	defer cancelSoon()
	number.wait(t, soon, "the number gets CANCEL")
	waitHeard(t, ctx, "agent hears the customer again", agent, cust, 10)
}

// A phone holds and resumes by re-INVITE (sendonly, then sendrecv); the gateway answers recvonly,
// then sendrecv (the sipp scenario checks both), and the call survives until the phone hangs up.
func TestSIPPhoneHold(t *testing.T) { // R11
	needSipp(t)
	srv := startServer(t, withSIP(""))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	agent := newParty(t, ctx, srv, "user=agent1", 1)
	if err := agent.c.Request(ctx, "agent_state", map[string]string{"state": "available"}); err != nil {
		t.Fatal(err)
	}
	phone := startSipp(t, ctx, freeUDPPort(t), "-sf", scenario("uac_hold.xml"), "-s", "100", srv.SIPAddr)
	m, err := agent.c.WaitFor(ctx, "call_offered", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := agent.c.Request(ctx, "accept", map[string]string{"call_id": callID(m)}); err != nil {
		t.Fatal(err)
	}
	waitCount(t, ctx, "agent hears the phone", &agent.other, 25)
	// The agent is shown that the phone holds, then that it is back.
	remote := func(held bool) func(map[string]any) bool {
		return func(st map[string]any) bool {
			for _, p := range st["parties"].([]any) {
				if p := p.(map[string]any); p["id"] == "tel:sipp" {
					return (p["remote_hold"] == true) == held
				}
			}
			return false
		}
	}
	waitState(t, ctx, agent.c, "the phone holds", remote(true))
	waitState(t, ctx, agent.c, "the phone resumes", remote(false))
	phone.wait(t, ctx, "hold and resume")
	if reason, by := waitEnded(t, ctx, agent.c, "phone hangs up"); reason != "hangup" || by != "tel:sipp" {
		t.Fatalf("call ended with %q by %q, want hangup by tel:sipp after hold and resume", reason, by)
	}
}

// Twenty phones call in at once with test/sipp/uac_queue_load.xml (the load test's phone:
// rtp_stream of a looped A-law file) and wait in the queue hearing the music: every call is
// queued (vcc_calls) and every one passes its scenario. A smoke test of the load set-up of
// docs/BENCHMARKS-sip.md.
func TestSIPQueuedPhonesLoadSmoke(t *testing.T) {
	needSipp(t)
	srv := startServer(t, withSIP(""))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	dir := t.TempDir()
	pcm := make([]int16, 8000)
	for i := range pcm {
		pcm[i] = int16(6000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	if err := os.WriteFile(filepath.Join(dir, "load.alaw"), audio.EncodeALaw(nil, pcm), 0o644); err != nil {
		t.Fatal(err)
	}
	const calls = 20
	cmd := exec.CommandContext(ctx, "sipp", "-sf", scenario("uac_queue_load.xml"), "-s", "100",
		"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)), "-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)),
		"-l", strconv.Itoa(calls), "-m", strconv.Itoa(calls), "-r", strconv.Itoa(calls), "-d", "4000",
		"-nostdin", "-timeout", "30", "-timeout_error", "-trace_err", "-error_file", filepath.Join(dir, "errors.log"), srv.SIPAddr)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(3 * time.Second)
	for metricValue(t, srv, "vcc_calls") < calls {
		if time.Now().After(deadline) {
			t.Fatalf("%v calls in progress, want %d queued", metricValue(t, srv, "vcc_calls"), calls)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := <-done; err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		t.Fatalf("sipp: %v\n%s\n%s", err, tail(out.Bytes(), 3000), tail(errs, 3000))
	}
	deadline = time.Now().Add(5 * time.Second)
	for metricValue(t, srv, "vcc_calls") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%v calls still in progress after every phone hung up", metricValue(t, srv, "vcc_calls"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
