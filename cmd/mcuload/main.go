// Command mcuload runs K real-time MCU rooms in process, each with N synthetic parties replaying
// pre-encoded VP8 (a moving picture) and Opus (a tone), and reports what one room costs: CPU per
// room as a share of one core, composite frames per second, and the latency from a tile's newest
// picture to its composite's packets. Pin it to one core to read "rooms per core":
//
//	go build -o /tmp/mcuload ./cmd/mcuload
//	taskset -c 1 /tmp/mcuload --rooms 3 --parties 3 --layouts 1 --duration 20s
//
// Senders' encoding is done once before the window (replay), so the figure is the room's work:
// decoding, composing, encoding, mixing; viewers' transports (SRTP, UDP) are not included.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/mcu"
)

type config struct {
	rooms, parties, layouts int
	width, height, fps      int
	cpuUsed                 int
	inW, inH                int
	duration, warmup        time.Duration
	audioOnly, idle         bool
	baseline                bool
	talkers                 int
	cpuprofile, pattern     string
}

func main() {
	var c config
	flag.IntVar(&c.rooms, "rooms", 1, "concurrent rooms")
	flag.IntVar(&c.parties, "parties", 3, "parties per room (2..8)")
	flag.IntVar(&c.layouts, "layouts", 1, "distinct layouts in use per room (1..4)")
	flag.IntVar(&c.width, "width", 1280, "composite width")
	flag.IntVar(&c.height, "height", 720, "composite height")
	flag.IntVar(&c.fps, "fps", 30, "composite frame rate")
	flag.IntVar(&c.cpuUsed, "cpu-used", 0, "libvpx speed for the composites (negative: realtime; 0: the MCU's default)")
	flag.IntVar(&c.inW, "in-width", 640, "senders' video width")
	flag.IntVar(&c.inH, "in-height", 480, "senders' video height")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "measurement window")
	flag.DurationVar(&c.warmup, "warmup", 3*time.Second, "time before the window")
	flag.BoolVar(&c.audioOnly, "audio-only", false, "parties send audio only (measures the mixer)")
	flag.BoolVar(&c.idle, "idle", false, "parties send nothing (measures an idle room)")
	flag.IntVar(&c.talkers, "talkers", 99, "parties talking at once (the others send a quiet open microphone); default all")
	flag.BoolVar(&c.baseline, "baseline", false, "senders only, no room: the harness's own cost, to subtract")
	flag.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the window")
	flag.StringVar(&c.pattern, "pattern", "videotest", "senders' picture: videotest (mediadevices' colour bars with a noise block, the hard case) or bar (flat with a moving bar)")
	flag.Parse()
	if c.parties < 2 || c.parties > call.MaxParties || c.layouts < 1 || c.layouts > 4 || c.rooms < 1 {
		fmt.Fprintln(os.Stderr, "mcuload: need 2..8 parties, 1..4 layouts, 1+ rooms")
		os.Exit(2)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "mcuload:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	clips, err := makeClips(c)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var rooms []*room
	for i := range c.rooms {
		r, err := startRoom(c, i, clips, log)
		if err != nil {
			return err
		}
		rooms = append(rooms, r)
	}
	defer func() {
		for _, r := range rooms {
			r.stop()
		}
	}()
	time.Sleep(c.warmup) // let every room reach its steady state before measuring

	before := make([]mcu.Stats, len(rooms))
	for i, r := range rooms {
		before[i] = r.mcu.Stats()
	}
	if c.cpuprofile != "" {
		f, err := os.Create(c.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	cpu0, t0 := cpuTime(), time.Now()
	time.Sleep(c.duration)
	cpu1, t1 := cpuTime(), time.Now()
	if c.cpuprofile != "" {
		pprof.StopCPUProfile()
	}

	var frames, active, encodes, ticks uint64
	var lat [64]uint64
	var pkts, bytes uint64
	for i, r := range rooms {
		s := r.mcu.Stats()
		frames += s.Frames - before[i].Frames
		active += s.ActiveMacroblocks - before[i].ActiveMacroblocks
		encodes += s.AudioEncodes - before[i].AudioEncodes
		ticks += s.AudioTicks - before[i].AudioTicks
		for j := range lat {
			lat[j] += s.Latency[j] - before[i].Latency[j]
		}
		p, b := r.received()
		pkts += p
		bytes += b
	}
	wall := t1.Sub(t0).Seconds()
	cpu := (cpu1 - cpu0).Seconds()
	mode := "video+audio"
	switch {
	case c.idle:
		mode = "idle"
	case c.audioOnly:
		mode = "audio only"
	}
	if c.baseline {
		mode += ", BASELINE (senders only, no room)"
	}
	fmt.Printf("rooms %d, parties %d (%d talking), layouts %d, %s, composite %dx%d@%d, senders %dx%d %s, window %.0f s\n",
		c.rooms, c.parties, min(c.talkers, c.parties), c.layouts, mode, c.width, c.height, c.fps, c.inW, c.inH, c.pattern, wall)
	fmt.Printf("cpu: %.1f%% of one core in all, %.2f%% per room (%.1f rooms per core)\n",
		100*cpu/wall, 100*cpu/wall/float64(c.rooms), wall*float64(c.rooms)/max(cpu, 1e-9))
	fmt.Printf("composite frames: %.1f per second per room; viewers received %.0f packets/s, %.2f Mbit/s in all\n",
		float64(frames)/wall/float64(c.rooms), float64(pkts)/wall, float64(bytes)*8/wall/1e6)
	fmt.Printf("audio: %.0f ticks and %.0f Opus encodes per second per room\n",
		float64(ticks)/wall/float64(c.rooms), float64(encodes)/wall/float64(c.rooms))
	if frames > 0 {
		grid := float64(((c.width + 15) / 16) * ((c.height + 15) / 16))
		fmt.Printf("encoder searched %.0f%% of the macroblocks (the rest unchanged: background, bars, still tiles)\n",
			100*float64(active)/float64(frames)/grid)
	}
	if n := total(lat[:]); n > 0 {
		fmt.Printf("latency newest tile picture -> composite packets: p50 %d ms, p95 %d ms, p99 %d ms (%d frames)\n",
			pct(lat[:], 0.50), pct(lat[:], 0.95), pct(lat[:], 0.99), n)
	}
	return nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func total(h []uint64) uint64 {
	var n uint64
	for _, v := range h {
		n += v
	}
	return n
}

// pct is the smallest ms bucket at or below which frac of the frames fall.
func pct(h []uint64, frac float64) int {
	n := total(h)
	var acc uint64
	for i, v := range h {
		acc += v
		if float64(acc) >= frac*float64(n) {
			return i
		}
	}
	return len(h) - 1
}
