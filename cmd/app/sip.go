package app

import (
	"fmt"
	"log/slog"

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
