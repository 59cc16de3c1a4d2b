package signaling

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/contactcenter/vcc/signaling/fastpath"
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

// registerFastMetrics exposes what the fast path carried, so an operator sees that it works (and
// what fell back to pion).
func registerFastMetrics(r prometheus.Registerer, p *fastpath.Port) {
	st := p.Stats()
	for _, c := range []struct {
		name, help string
		v          func() uint64
	}{
		{"vcc_fastpath_received_total", "RTP packets received and forwarded below pion.", st.Fast.Load},
		{"vcc_fastpath_sent_total", "RTP packets encrypted and sent below pion.", st.Sent.Load},
		{"vcc_fastpath_resent_total", "Packets sent again for NACKs by the fast path.", st.Resent.Load},
		{"vcc_fastpath_decrypt_failed_total", "Fast-stream packets that did not decrypt and went to pion.", st.DecryptFailed.Load},
		{"vcc_fastpath_send_errors_total", "Fast-path sends the socket refused.", st.SendErrors.Load},
	} {
		v := c.v
		r.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help}, func() float64 { return float64(v()) }))
	}
}
