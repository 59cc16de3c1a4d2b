package signaling

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	errors   *prometheus.CounterVec
	sessions prometheus.Gauge
	parties  prometheus.Gauge
}

// newMetrics registers with r; a nil r keeps them unregistered (tests, tools).
func newMetrics(r prometheus.Registerer) *metrics {
	m := &metrics{
		errors:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vcc_signaling_errors_total", Help: "Refused requests by protocol error code."}, []string{"code"}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vcc_signaling_sessions", Help: "Open authenticated WebSocket sessions."}),
		parties:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "vcc_browser_parties", Help: "Browser parties with a PeerConnection in a call."}),
	}
	if r != nil {
		r.MustRegister(m.errors, m.sessions, m.parties)
	}
	return m
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
