package signaling

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/webrtc/v4"

	"github.com/contactcenter/vcc/signaling/fastpath"
)

// WebRTCConfig is how browser parties' PeerConnections are built.
type WebRTCConfig struct {
	PortMin, PortMax uint16   // UDP port range for ICE; 0 = any
	PublicIPs        []string // NAT 1:1 addresses announced as host candidates
	LoopbackOnly     bool     // gather only 127.0.0.1 (a demo or test on one machine)
	ICEServers       []string // STUN/TURN URLs handed to browsers
	// UDPPort, when not 0, carries every browser's media on this one UDP port (an ICE UDP mux)
	// instead of a port per party: one firewall rule, as LiveKit's rtc.udp_port. PortMin/PortMax
	// are then unused.
	UDPPort int
	// FastPath (with UDPPort) forwards the browsers' RTP below pion's track API: SRTP packets are
	// decrypted, handed to their sinks and re-encrypted on the port's read goroutine, with no
	// hand-off or interceptor per packet (signaling/fastpath). ICE, DTLS and RTCP stay with pion.
	FastPath bool
}

// muxBufferSize is the socket buffer asked for the single media port (WebRTCConfig.UDPPort).
const muxBufferSize = 16 << 20

// newAPI builds the pion API shared by all browser parties: VP8 and Opus only (every browser has
// both, and forwarding needs both ends to agree), NACK both ways, RTCP reports, TWCC feedback so the
// browsers adapt their send rate, and SRTP with AES-GCM offered first (it costs a fifth of AES-CM).
// The returned close releases the single UDP port, if one was opened; call it once every
// PeerConnection is closed.
func newAPI(cfg WebRTCConfig, log *slog.Logger) (*webrtc.API, *fastpath.Port, func() error, error) {
	me := &webrtc.MediaEngine{}
	videoFB := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFB},
		PayloadType:        96,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, nil, nil, err
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, nil, nil, err
	}
	ir := &interceptor.Registry{}
	lf := pionLogs{log: log}
	if err := webrtc.ConfigureNackWithOptions(me, ir, []nack.GeneratorOption{nack.WithGeneratorLoggerFactory(lf)},
		// 256 packets is 2.5 s of 720p video: enough for any retransmission worth sending, and a
		// quarter of the default's memory per outgoing stream.
		nack.WithResponderLoggerFactory(lf), nack.ResponderSize(256)); err != nil {
		return nil, nil, nil, err
	}
	if err := webrtc.ConfigureRTCPReportsWithOptions(ir, []report.ReceiverOption{report.WithReceiverLoggerFactory(lf)},
		report.WithSenderLoggerFactory(lf)); err != nil {
		return nil, nil, nil, err
	}
	if err := webrtc.ConfigureTWCCSenderWithOptions(me, ir, twcc.WithLoggerFactory(lf)); err != nil {
		return nil, nil, nil, err
	}

	se := webrtc.SettingEngine{LoggerFactory: lf}
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	if cfg.PortMin != 0 || cfg.PortMax != 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.PortMin, cfg.PortMax); err != nil {
			return nil, nil, nil, fmt.Errorf("signaling: port range: %w", err)
		}
	}
	if len(cfg.PublicIPs) > 0 {
		rule := webrtc.ICEAddressRewriteRule{External: cfg.PublicIPs, AsCandidateType: webrtc.ICECandidateTypeHost}
		if err := se.SetICEAddressRewriteRules(rule); err != nil {
			return nil, nil, nil, fmt.Errorf("signaling: public ips: %w", err)
		}
	}
	var filter func(net.IP) bool
	if cfg.LoopbackOnly {
		filter = func(ip net.IP) bool { return ip.IsLoopback() }
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(filter)
	}
	closeMux := func() error { return nil }
	var fast *fastpath.Port
	switch {
	case cfg.UDPPort != 0 && cfg.FastPath:
		port, mux, err := newFastPort(cfg, lf)
		if err != nil {
			return nil, nil, nil, err
		}
		se.SetICEUDPMux(mux)
		// The port reads each connection's SRTP keys from pion's DTLS key log; it never leaves
		// the process.
		se.SetDTLSKeyLogWriter(port.KeyLog())
		fast = port
		closeMux = mux.Close // closes the port's socket too
	case cfg.UDPPort != 0:
		mux, err := newMediaPort(cfg, lf, filter)
		if err != nil {
			return nil, nil, nil, err
		}
		se.SetICEUDPMux(mux)
		closeMux = mux.Close
	case cfg.FastPath:
		return nil, nil, nil, fmt.Errorf("signaling: the fast path needs the single media port (webrtc.udp_port)")
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	return api, fast, closeMux, nil
}

// newFastPort opens the single media port with the fast path's socket under pion's ICE mux: on
// 127.0.0.1 for a loopback-only server, else on every address.
func newFastPort(cfg WebRTCConfig, lf pionLogs) (*fastpath.Port, *ice.UDPMuxDefault, error) {
	if cfg.UDPPort < 0 || cfg.UDPPort > 65535 {
		return nil, nil, fmt.Errorf("signaling: udp port %d", cfg.UDPPort)
	}
	host := "0.0.0.0"
	if cfg.LoopbackOnly {
		host = "127.0.0.1"
	}
	port, err := fastpath.Listen(net.JoinHostPort(host, strconv.Itoa(cfg.UDPPort)))
	if err != nil {
		return nil, nil, fmt.Errorf("signaling: udp port %d: %w", cfg.UDPPort, err)
	}
	_ = port.Conn().SetReadBuffer(muxBufferSize) // see newMediaPort
	_ = port.Conn().SetWriteBuffer(muxBufferSize)
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: port, Logger: lf.NewLogger("ice")})
	return port, mux, nil
}

// newMediaPort opens the single UDP port that carries every browser's media (WebRTCConfig.UDPPort).
func newMediaPort(cfg WebRTCConfig, lf pionLogs, filter func(net.IP) bool) (*ice.MultiUDPMuxDefault, error) {
	if cfg.UDPPort < 0 || cfg.UDPPort > 65535 {
		return nil, fmt.Errorf("signaling: udp port %d", cfg.UDPPort)
	}
	opts := []ice.UDPMuxFromPortOption{
		ice.UDPMuxFromPortWithLogger(lf.NewLogger("ice")),
		ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4, ice.NetworkTypeUDP6),
		// One socket takes what a port per party would spread over hundreds of receive buffers:
		// at the default 208 KiB a busy core's scheduling hiccup overflows it (100 calls lost
		// 11-14 % of packets in cmd/loadtest). The kernel caps this at net.core.rmem_max /
		// wmem_max (docs/BENCHMARKS.md).
		ice.UDPMuxFromPortWithReadBufferSize(muxBufferSize),
		ice.UDPMuxFromPortWithWriteBufferSize(muxBufferSize),
	}
	if cfg.LoopbackOnly {
		opts = append(opts, ice.UDPMuxFromPortWithLoopback(), ice.UDPMuxFromPortWithIPFilter(filter))
	}
	mux, err := ice.NewMultiUDPMuxFromPort(cfg.UDPPort, opts...)
	if err != nil {
		return nil, fmt.Errorf("signaling: udp port %d: %w", cfg.UDPPort, err)
	}
	return mux, nil
}
