package app

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/contactcenter/vcc/gateway"
)

// startGateway starts the SIP gateway when cfg enables it (nil, nil when sip.listen is off).
func startGateway(cfg SIPConfig, log *slog.Logger) (*gateway.Gateway, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	gw, err := gateway.New(gateway.Config{
		Listen: cfg.Listen, Transports: cfg.Transports, Host: cfg.Host,
		TLS:   gateway.TLSConfig{Listen: cfg.TLS.Listen, CertFile: cfg.TLS.CertFile, KeyFile: cfg.TLS.KeyFile},
		RTPIP: cfg.RTP.IP, RTPPortMin: cfg.RTP.PortMin, RTPPortMax: cfg.RTP.PortMax, RTPTimeout: cfg.RTP.Timeout, SRTP: cfg.RTP.SRTP,
		Numbers: cfg.Inbound.Numbers, Allow: cfg.Inbound.Allow,
		Auth:  gateway.InboundAuth{Realm: cfg.Inbound.Auth.Realm, Users: cfg.Inbound.Auth.Users},
		Trunk: gateway.Trunk{URI: cfg.Trunk.URI, Username: cfg.Trunk.Username, Password: cfg.Trunk.Password, CallerID: cfg.Trunk.CallerID, CAFile: cfg.Trunk.CAFile, SRTP: cfg.Trunk.SRTP},
	}, gateway.WithLogger(log.With("component", "sip")))
	if err != nil {
		return nil, fmt.Errorf("sip gateway: %w", err)
	}
	return gw, nil
}

func closeGateway(gw *gateway.Gateway) {
	if gw != nil {
		_ = gw.Close()
	}
}

// sipCollector exports the gateway's media counters, read once per scrape.
type sipCollector struct{ gw *gateway.Gateway }

var sipMetrics = []struct {
	desc    *prometheus.Desc
	counter bool
	value   func(gateway.Stats) float64
}{
	{prometheus.NewDesc("vcc_sip_legs", "Phone legs with media now.", nil, nil), false, func(s gateway.Stats) float64 { return float64(s.Legs) }},
	{prometheus.NewDesc("vcc_sip_legs_total", "Phone legs started (inbound and outbound).", nil, nil), true, func(s gateway.Stats) float64 { return float64(s.Calls) }},
	{prometheus.NewDesc("vcc_sip_rtp_received_total", "RTP packets received from phones.", nil, nil), true, func(s gateway.Stats) float64 { return float64(s.RTPIn) }},
	{prometheus.NewDesc("vcc_sip_rtp_lost_total", "RTP packets phones sent that never arrived (sequence gaps).", nil, nil), true, func(s gateway.Stats) float64 { return float64(s.RTPLost) }},
	{prometheus.NewDesc("vcc_sip_rtp_late_total", "RTP packets from phones too late for the jitter buffer, or overflowing it.", nil, nil), true, func(s gateway.Stats) float64 { return float64(s.Late) }},
	{prometheus.NewDesc("vcc_sip_rtp_sent_total", "RTP packets sent to phones.", nil, nil), true, func(s gateway.Stats) float64 { return float64(s.RTPOut) }},
	{prometheus.NewDesc("vcc_sip_rtp_send_errors_total", "RTP packets to phones the socket refused.", nil, nil), true, func(s gateway.Stats) float64 { return float64(s.SendErrors) }},
	{prometheus.NewDesc("vcc_sip_rtcp_sent_total", "RTCP reports sent to phones.", nil, nil), true, func(s gateway.Stats) float64 { return float64(s.RTCPOut) }},
	{prometheus.NewDesc("vcc_sip_srtp_auth_failures_total", "SRTP/SRTCP packets from phones that failed authentication.", nil, nil), true, func(s gateway.Stats) float64 { return float64(s.SRTPFailed) }},
	{prometheus.NewDesc("vcc_sip_clock_missed_ticks_total", "20 ms media steps the gateway clock skipped (CPU starved).", nil, nil), true, func(s gateway.Stats) float64 { return float64(s.MissedTicks) }},
}

func (sipCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range sipMetrics {
		ch <- m.desc
	}
}

func (c sipCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.gw.Stats()
	for _, m := range sipMetrics {
		kind := prometheus.GaugeValue
		if m.counter {
			kind = prometheus.CounterValue
		}
		ch <- prometheus.MustNewConstMetric(m.desc, kind, m.value(s))
	}
}
