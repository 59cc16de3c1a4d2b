package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runCmd is one measurement: the server on one core, sipp on the other, CPU read over a window
// while every call is up, the counters read from the server's log at the end.
func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	server := fs.String("server", "/tmp/vccserver", "vccserver binary (go build -o /tmp/vccserver ./cmd/vccserver)")
	mode := fs.String("mode", "", "instead of vccserver, run this command's own gateway: queue, pairs, agents or mcu (siploadtest serve)")
	scenario := fs.String("scenario", "test/sipp/uac_queue_load.xml", "sipp scenario")
	sipAddr := fs.String("sip", "127.0.0.1:5070", "the server's SIP address")
	serverCPU := fs.String("server-cpu", "1", "taskset -c list for the server")
	sippCPU := fs.String("sipp-cpu", "0", "taskset -c list for sipp")
	calls := fs.Int("calls", 200, "concurrent calls (sipp -l and -m)")
	rate := fs.Int("rate", 20, "calls placed per second (sipp -r)")
	total := fs.Int("total", 0, "calls placed in all (sipp -m; default -calls)")
	duration := fs.Duration("duration", 60*time.Second, "length of each call (sipp -d)")
	win := fs.Duration("window", 30*time.Second, "how long CPU is measured once every call is up")
	dir := fs.String("dir", "", "working directory kept for the logs (default: a temporary one, removed)")
	_ = fs.Parse(args)
	if *total == 0 {
		*total = *calls
	}
	scen, err := filepath.Abs(*scenario)
	if err != nil {
		return err
	}
	work := *dir
	if work == "" {
		if work, err = os.MkdirTemp("", "siploadtest"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	if err := writeAudio(filepath.Join(work, "load.alaw"), 10*time.Second, false); err != nil {
		return err
	}

	// The server.
	var argv []string
	if *mode != "" {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		argv = []string{self, "serve", "-sip", *sipAddr, "-mode", *mode}
	} else {
		argv = []string{*server, "--listen", "127.0.0.1:0", "--data", filepath.Join(work, "data"), "--sip", *sipAddr}
	}
	logPath := filepath.Join(work, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	srv := exec.Command("taskset", append([]string{"-c", *serverCPU}, argv...)...)
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		return err
	}
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Wait() }()
	defer func() {
		if srv.ProcessState == nil {
			_ = srv.Process.Kill()
		}
	}()
	if err := waitFor(logPath, "SIP gateway on", 20*time.Second, srvDone); err != nil {
		return err
	}

	// sipp.
	stat := filepath.Join(work, "stat.csv")
	sippArgs := []string{"-c", *sippCPU, "sipp", "-sf", scen, "-s", "100", "-i", "127.0.0.1", "-p", "5090",
		"-mi", "127.0.0.1", "-mp", "6100", "-l", strconv.Itoa(*calls), "-m", strconv.Itoa(*total), "-r", strconv.Itoa(*rate),
		"-d", strconv.FormatInt(duration.Milliseconds(), 10), "-nostdin", "-trace_stat", "-fd", "1", "-stf", stat,
		"-trace_err", "-error_file", filepath.Join(work, "sipp_errors.log"),
		"-timeout", strconv.Itoa(int((*duration + time.Duration(*total / *rate)*time.Second + 60*time.Second).Seconds())) + "s",
		*sipAddr}
	sipp := exec.Command("taskset", sippArgs...)
	sipp.Dir = work
	sippOut, err := os.Create(filepath.Join(work, "sipp.out"))
	if err != nil {
		return err
	}
	defer sippOut.Close()
	sipp.Stdout, sipp.Stderr = sippOut, sippOut
	fmt.Fprintf(os.Stderr, "siploadtest: %s\nsiploadtest: taskset %s (in %s)\n", strings.Join(srv.Args, " "), strings.Join(sippArgs, " "), work)
	start := time.Now()
	cpu0, _ := cpuSecs(srv.Process.Pid)
	if err := sipp.Start(); err != nil {
		return err
	}
	sippDone := make(chan error, 1)
	go func() { sippDone <- sipp.Wait() }()

	// The window: once every call is up (or, with more calls than -calls, once sipp is at -calls).
	ramp := time.Duration(float64(*calls) / float64(*rate) * float64(time.Second))
	time.Sleep(ramp + 3*time.Second)
	var w window
	if time.Since(start)+*win < *duration {
		w, err = measure(srv.Process.Pid, sipp.Process.Pid, *win)
		if err != nil {
			return err
		}
	} else {
		fmt.Fprintln(os.Stderr, "siploadtest: calls too short for the window: no CPU figure")
	}
	if err := <-sippDone; err != nil {
		fmt.Fprintln(os.Stderr, "siploadtest: sipp:", err)
	}
	elapsed := time.Since(start)
	cpu1, _ := cpuSecs(srv.Process.Pid)
	_ = srv.Process.Signal(syscall.SIGTERM)
	select {
	case <-srvDone:
	case <-time.After(30 * time.Second):
		_ = srv.Process.Kill()
		<-srvDone
	}

	sp, err := readSippStats(stat)
	if err != nil {
		return err
	}
	legs, err := readLegs(logPath)
	if err != nil {
		return err
	}
	report(*calls, *rate, *total, *duration, w, sp, legs, elapsed, cpu1-cpu0)
	return nil
}

// waitFor waits until the file holds s.
func waitFor(path, s string, max time.Duration, died <-chan error) error {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), s) {
			return nil
		}
		select {
		case err := <-died:
			return fmt.Errorf("the server exited (%v): %s", err, b)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("the server did not say %q in %s", s, max)
}

// window is what was measured while the load was steady.
type window struct {
	secs            float64
	serverCPU       float64 // seconds of CPU (user + system)
	sippCPU         float64
	switches        uint64 // the server's context switches (voluntary + not), all threads
	threads, rssKiB int
	coreBusy        map[string]float64 // each core's busy share (/proc/stat), others' work included
	coreSteal       map[string]float64 // each core's share stolen by the hypervisor
}

const clkTck = 100 // USER_HZ on Linux

func measure(server, sipp int, d time.Duration) (window, error) {
	s0, err := cpuSecs(server)
	if err != nil {
		return window{}, err
	}
	p0, _ := cpuSecs(sipp)
	c0 := ctxSwitches(server)
	b0 := coreTimes()
	t0 := time.Now()
	time.Sleep(d)
	s1, err := cpuSecs(server)
	if err != nil {
		return window{}, err
	}
	p1, _ := cpuSecs(sipp)
	w := window{secs: time.Since(t0).Seconds(), serverCPU: s1 - s0, sippCPU: p1 - p0, switches: ctxSwitches(server) - c0,
		coreBusy: map[string]float64{}, coreSteal: map[string]float64{}}
	for core, t1 := range coreTimes() {
		if t0, ok := b0[core]; ok && t1[1] > t0[1] {
			w.coreBusy[core] = float64(t1[0]-t0[0]) / float64(t1[1]-t0[1])
			w.coreSteal[core] = float64(t1[2]-t0[2]) / float64(t1[1]-t0[1])
		}
	}
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", server))
	w.threads = len(ents)
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", server)); err == nil {
		if m := regexp.MustCompile(`VmRSS:\s+(\d+)`).FindSubmatch(b); m != nil {
			w.rssKiB, _ = strconv.Atoi(string(m[1]))
		}
	}
	return w, nil
}

// cpuSecs is utime + stime of a process, from /proc/PID/stat.
func cpuSecs(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	u, _ := strconv.ParseUint(f[11], 10, 64)
	k, _ := strconv.ParseUint(f[12], 10, 64)
	return float64(u+k) / clkTck, nil
}

// coreTimes is, per core ("cpu0", ...), its busy, total and stolen jiffies from /proc/stat.
func coreTimes() map[string][3]uint64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	m := map[string][3]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		var busy, total, steal uint64
		for i, v := range f[1:] {
			n, _ := strconv.ParseUint(v, 10, 64)
			total += n
			switch i {
			case 3, 4: // idle, iowait
			case 7:
				steal = n
			default:
				busy += n
			}
		}
		m[f[0]] = [3]uint64{busy, total, steal}
	}
	return m
}

func ctxSwitches(pid int) uint64 {
	var n uint64
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, e := range ents {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, e.Name()))
		if err != nil {
			continue
		}
		for _, m := range regexp.MustCompile(`ctxt_switches:\s+(\d+)`).FindAllSubmatch(b, -1) {
			v, _ := strconv.ParseUint(string(m[1]), 10, 64)
			n += v
		}
	}
	return n
}

// sippStats is the last line of sipp's -trace_stat file.
type sippStats struct {
	created, ok, failed int
	setup               time.Duration // mean time from INVITE to 200 (rtd)
	setupBuckets        string
	rate                string // calls per second sipp achieved, on average
}

func readSippStats(path string) (sippStats, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return sippStats{}, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return sippStats{}, fmt.Errorf("%s: no statistics", path)
	}
	head := strings.Split(lines[0], ";")
	last := strings.Split(lines[len(lines)-1], ";")
	get := func(name string) string {
		for i, h := range head {
			if h == name && i < len(last) {
				return last[i]
			}
		}
		return ""
	}
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	st := sippStats{created: atoi(get("TotalCallCreated")), ok: atoi(get("SuccessfulCall(C)")), failed: atoi(get("FailedCall(C)")), rate: get("CallRate(C)")}
	if p := strings.Split(get("ResponseTime1(C)"), ":"); len(p) == 4 {
		h, m, s, us := atoi(p[0]), atoi(p[1]), atoi(p[2]), atoi(p[3])
		st.setup = time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second + time.Duration(us)*time.Microsecond
	}
	var buckets []string
	for i, h := range head {
		if strings.HasPrefix(h, "ResponseTimeRepartition1_") && i < len(last) && last[i] != "0" {
			buckets = append(buckets, strings.TrimPrefix(h, "ResponseTimeRepartition1_")+"ms:"+last[i])
		}
	}
	st.setupBuckets = strings.Join(buckets, " ")
	return st, nil
}

// legTotals sums the server's "phone leg ended" lines.
type legTotals struct {
	legs, dropped                   int
	reasons                         map[string]int
	in, lost, late, overflow, concl uint64
	out, sendErr, secs              uint64
	missedTicks                     uint64
	warnings                        int
}

func readLegs(path string) (legTotals, error) {
	f, err := os.Open(path)
	if err != nil {
		return legTotals{}, err
	}
	defer f.Close()
	t := legTotals{reasons: map[string]int{}}
	kv := regexp.MustCompile(`(\w+)=("[^"]*"|\S+)`)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			t.warnings++
		}
		switch {
		case strings.Contains(line, `msg="phone leg ended"`):
		case strings.Contains(line, `msg="sip gateway closed"`):
			for _, m := range kv.FindAllStringSubmatch(line, -1) {
				if m[1] == "missed_ticks" {
					t.missedTicks, _ = strconv.ParseUint(m[2], 10, 64)
				}
			}
			continue
		default:
			continue
		}
		t.legs++
		for _, m := range kv.FindAllStringSubmatch(line, -1) {
			v, _ := strconv.ParseUint(m[2], 10, 64)
			switch m[1] {
			case "reason":
				r := strings.Trim(m[2], `"`)
				t.reasons[r]++
				if r != "hangup" {
					t.dropped++
				}
			case "rtp_in":
				t.in += v
			case "rtp_lost":
				t.lost += v
			case "jb_late":
				t.late += v
			case "jb_overflow":
				t.overflow += v
			case "jb_concealed":
				t.concl += v
			case "rtp_out":
				t.out += v
			case "send_errors":
				t.sendErr += v
			case "secs":
				t.secs += v
			}
		}
	}
	return t, sc.Err()
}

func report(calls, rate, total int, d time.Duration, w window, sp sippStats, lt legTotals, elapsed time.Duration, runCPU float64) {
	fmt.Printf("load: %d concurrent calls of %s placed at %d/s (%d in all), elapsed %s; server CPU over the whole run %.1f s (%.1f ms per call)\n",
		calls, d, rate, total, elapsed.Round(time.Second), runCPU, 1000*runCPU/float64(max(total, 1)))
	if w.secs > 0 {
		core := w.serverCPU / w.secs
		fmt.Printf("server: %.1f %% of a core over %.0f s (%.2f ms CPU per leg-second; %.0f legs per core), %.0f context switches/s, %d threads, RSS %d MiB; sipp %.1f %%\n",
			100*core, w.secs, 1000*core/float64(calls), float64(calls)/core, float64(w.switches)/w.secs, w.threads, w.rssKiB/1024, 100*w.sippCPU/w.secs)
		var cores []string
		for c := range w.coreBusy {
			cores = append(cores, c)
		}
		slices.Sort(cores)
		for _, c := range cores {
			fmt.Printf("  %s busy %.1f %% (stolen %.1f %%)", c, 100*w.coreBusy[c], 100*w.coreSteal[c])
		}
		fmt.Println(" (whoever ran there: the machine is shared)")
	}
	fmt.Printf("sipp: %d created (%s per second on average), %d successful, %d failed; mean set-up (INVITE to 200) %d ms; [%s]\n",
		sp.created, sp.rate, sp.ok, sp.failed, sp.setup.Milliseconds(), sp.setupBuckets)
	sent := lt.in + lt.lost
	pct := func(a, b uint64) float64 {
		if b == 0 {
			return 0
		}
		return 100 * float64(a) / float64(b)
	}
	fmt.Printf("legs: %d ended, %d not by the phone's BYE %v; %d warnings in the log\n", lt.legs, lt.dropped, lt.reasons, lt.warnings)
	fmt.Printf("phone->server: %d sent, %d lost (%.3f %%), %d late + %d overflow in the jitter buffer (%.3f %%), %d frames concealed\n",
		sent, lt.lost, pct(lt.lost, sent), lt.late, lt.overflow, pct(lt.late+lt.overflow, sent), lt.concl)
	perSec := 0.0
	if lt.secs > 0 {
		perSec = float64(lt.out) / float64(lt.secs)
	}
	fmt.Printf("server->phone: %d sent (%.2f per leg-second, 50 due), %d send errors; clock missed %d ticks\n", lt.out, perSec, lt.sendErr, lt.missedTicks)
}
