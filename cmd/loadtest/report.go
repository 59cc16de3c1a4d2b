package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

type latency struct {
	P50, P95, P99, P999, Max float64 // microseconds
}

type report struct {
	Calls            int                `json:"calls"`
	Established      int                `json:"established"`
	Failed           int                `json:"failed"`
	SetupErrors      []string           `json:"setup_errors,omitempty"`
	VideoPPS         int                `json:"video_pps"`
	VideoSize        int                `json:"video_size"`
	AudioPPS         int                `json:"audio_pps"`
	AudioSize        int                `json:"audio_size"`
	Lean             bool               `json:"lean_clients"`
	SetupSeconds     float64            `json:"setup_seconds"`
	WindowSeconds    float64            `json:"window_seconds"`
	TargetPPS        float64            `json:"target_send_pps"`
	PacketsSent      uint64             `json:"packets_sent"`
	PacketsReceived  uint64             `json:"packets_received"`
	Duplicates       uint64             `json:"duplicates"`
	Lost             uint64             `json:"lost"`
	LossPct          float64            `json:"loss_pct"`
	UDPRcvbufDrops   int64              `json:"udp_rcvbuf_drops"` // host-wide, over the window
	SendErrors       uint64             `json:"send_errors"`
	Foreign          uint64             `json:"foreign_packets"`
	CallsEnded       uint64             `json:"unexpected_call_ended"`
	ProtocolErrors   uint64             `json:"protocol_errors"`
	Disconnected     int                `json:"disconnected_clients"`
	SentPPS          float64            `json:"sent_pps"`
	ForwardedPPS     float64            `json:"forwarded_pps"`
	ServerForwarded  int64              `json:"server_forwarded_packets"` // from /metrics; -1 unknown
	ServerCPUSeconds float64            `json:"server_cpu_seconds"`
	ServerCores      float64            `json:"server_cores"`
	PerCoreSecond    float64            `json:"forwarded_per_server_core_second"`
	CPUPerPacketUs   float64            `json:"server_cpu_us_per_forwarded_packet"`
	LatencyUs        latency            `json:"latency_us"`
	LoadCPUSeconds   float64            `json:"load_cpu_seconds"`
	LoadCores        float64            `json:"load_cores"`
	HostBusy         map[string]float64 `json:"host_cpu_busy"`
}

// collect sums what every receiver counted. Streams' locks make this safe while receivers still run.
func (lt *loadTest) collect(r *report) {
	var h histogram
	for _, s := range lt.streams {
		r.PacketsSent += s.sent.Load()
		r.SendErrors += s.fails.Load()
		s.mu.Lock()
		r.PacketsReceived += s.unique
		r.Duplicates += s.dups
		h.merge(&s.latency)
		s.mu.Unlock()
	}
	lt.mu.Lock()
	for _, p := range lt.parties {
		r.Foreign += p.foreign.Load()
		r.CallsEnded += p.ended.Load()
		r.ProtocolErrors += p.errs.Load()
		if p.disconnected.Load() {
			r.Disconnected++
		}
	}
	lt.mu.Unlock()
	if r.PacketsSent > r.PacketsReceived {
		r.Lost = r.PacketsSent - r.PacketsReceived
	}
	if r.PacketsSent > 0 {
		r.LossPct = 100 * float64(r.Lost) / float64(r.PacketsSent)
	}
	w := r.WindowSeconds
	r.TargetPPS = float64(2*r.Established) * float64(lt.cfg.videoPPS+lt.cfg.audioPPS)
	r.SentPPS = float64(r.PacketsSent) / w
	r.ForwardedPPS = float64(r.PacketsReceived) / w
	r.ServerCores = r.ServerCPUSeconds / w
	if r.ServerCPUSeconds > 0 {
		r.PerCoreSecond = float64(r.PacketsReceived) / r.ServerCPUSeconds
		r.CPUPerPacketUs = 1e6 * r.ServerCPUSeconds / float64(r.PacketsReceived)
	}
	r.LoadCores = r.LoadCPUSeconds / w
	us := func(q float64) float64 { return float64(h.quantile(q)) / 1e3 }
	r.LatencyUs = latency{P50: us(0.5), P95: us(0.95), P99: us(0.99), P999: us(0.999), Max: float64(h.max) / 1e3}
}

func (r *report) print(asJSON bool) {
	if asJSON {
		e := json.NewEncoder(os.Stdout)
		e.SetIndent("", "  ")
		_ = e.Encode(r)
		return
	}
	p := func(k, f string, a ...any) { fmt.Printf("%-30s "+f+"\n", append([]any{k}, a...)...) }
	p("calls", "%d requested, %d established, %d failed (set-up %.1f s)", r.Calls, r.Established, r.Failed, r.SetupSeconds)
	for _, e := range r.SetupErrors {
		p("  set-up error", "%s", e)
	}
	if r.WindowSeconds == 0 {
		return // nothing was measured
	}
	p("window", "%.2f s", r.WindowSeconds)
	p("packets sent", "%d (%.0f/s; target %.0f/s)", r.PacketsSent, r.SentPPS, r.TargetPPS)
	p("packets received", "%d unique, %d duplicates", r.PacketsReceived, r.Duplicates)
	p("server-counted forwarded", "%d", r.ServerForwarded)
	p("loss", "%d packets, %.4f %% (host UDP receive-buffer drops in the window: %d)", r.Lost, r.LossPct, r.UDPRcvbufDrops)
	p("forwarded pps (wall)", "%.0f", r.ForwardedPPS)
	if r.ServerCPUSeconds > 0 {
		p("server CPU", "%.2f s (%.1f %% of a core)", r.ServerCPUSeconds, 100*r.ServerCores)
		p("forwarded per server core-s", "%.0f (%.2f us CPU per packet)", r.PerCoreSecond, r.CPUPerPacketUs)
	} else {
		p("server CPU", "not measured (--pid)")
	}
	l := r.LatencyUs
	p("latency us (client->srv->client)", "p50 %.0f  p95 %.0f  p99 %.0f  p99.9 %.0f  max %.0f", l.P50, l.P95, l.P99, l.P999, l.Max)
	p("load tool CPU", "%.2f s (%.1f %% of a core)", r.LoadCPUSeconds, 100*r.LoadCores)
	var cpus []string
	for k, v := range r.HostBusy {
		cpus = append(cpus, fmt.Sprintf("%s %.0f%%", k, 100*v))
	}
	sort.Strings(cpus)
	p("host CPU busy", "%s", strings.Join(cpus, ", "))
	if r.SentPPS < 0.95*r.TargetPPS {
		p("WARNING", "senders fell behind their target rate: the load tool (or its core) is saturated; latency includes its own queueing")
	}
	if r.SendErrors+r.Foreign+r.CallsEnded+r.ProtocolErrors > 0 || r.Disconnected > 0 {
		p("anomalies", "send errors %d, foreign packets %d, calls ended %d, protocol errors %d, clients dropped %d",
			r.SendErrors, r.Foreign, r.CallsEnded, r.ProtocolErrors, r.Disconnected)
	}
}
