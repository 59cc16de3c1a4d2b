package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/gateway"
	"github.com/contactcenter/vcc/mcu"
	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/moh"
	"github.com/contactcenter/vcc/sfu"
	"github.com/contactcenter/vcc/signaling"
	"github.com/contactcenter/vcc/store"
	"github.com/contactcenter/vcc/webclient"
)

// Server is a running media server.
type Server struct {
	Addr    string // where HTTP listens, resolved (port 0 becomes the real port)
	SIPAddr string // where the SIP gateway listens, resolved; empty when sip.listen is off
	Config  Config
	log     *slog.Logger
	sig     *signaling.Server
	center  *call.Center
	gw      *gateway.Gateway
	db      *store.SQLite
	music   *moh.Source
	ln      net.Listener
	served  chan error
}

// Start builds every part from cfg and starts serving. log may be nil.
func Start(cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = NewLogger(cfg.LogLevel)
	}
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	auth, err := signaling.NewAuth(cfg.Auth.Secret)
	if err != nil {
		return nil, err
	}
	ccfg := call.Config{OfferTimeout: cfg.Calls.OfferTimeout, Mode: call.Mode(cfg.VideoMode)}
	for _, q := range cfg.Queues {
		ccfg.Queues = append(ccfg.Queues, call.QueueConfig{Name: q.Name, Skill: q.Skill, WrapupReasons: q.WrapupReasons,
			WrapupTimeout: q.WrapupTimeout, AutoRecord: q.AutoRecord})
	}
	var users []call.UserRef
	for _, u := range cfg.Users {
		r := call.Role(u.Role)
		if !r.Valid() {
			return nil, fmt.Errorf("user %s: unknown role %q", u.ID, u.Role)
		}
		users = append(users, call.UserRef{ID: u.ID, Name: u.Name, Role: r})
		if r == call.Agent && len(u.Skills) > 0 {
			ccfg.Agents = append(ccfg.Agents, call.AgentConfig{ID: u.ID, Skills: u.Skills})
		}
	}
	db, err := store.Open(filepath.Join(cfg.Data, "vcc.db"))
	if err != nil {
		return nil, err
	}
	music, err := moh.New()
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	counters := &media.Counters{}
	mcuCfg := mcu.Config{Width: cfg.MCU.Width, Height: cfg.MCU.Height, FPS: cfg.MCU.FPS, BitrateKbps: cfg.MCU.BitrateKbps}
	rooms := func(id call.CallID, mode call.Mode) (call.MediaRoom, error) {
		if mode == call.ModeMCU {
			return mcu.New(id, log, mcu.WithMusic(music), mcu.WithCounters(counters), mcu.WithConfig(mcuCfg))
		}
		return sfu.New(id, log, sfu.WithMusic(music)), nil
	}
	recDir := filepath.Join(cfg.Data, "recordings")
	copts := []call.Option{call.WithLogger(log), call.WithStore(db), call.WithRecorders(recorders(recDir, log))}
	gw, err := startGateway(cfg.SIP, log)
	if err != nil {
		_ = db.Close()
		_ = music.Close()
		return nil, err
	}
	if gw != nil && cfg.SIP.Trunk.URI != "" {
		copts = append(copts, call.WithDialer(gw)) // without a trunk, numbers are refused as gateway_unavailable
	}
	center, err := call.NewCenter(ccfg, rooms, copts...)
	if err != nil {
		closeGateway(gw)
		_ = db.Close()
		_ = music.Close()
		return nil, err
	}
	if gw != nil {
		gw.ServeInbound(center)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerMediaMetrics(reg, counters, center)
	if gw != nil {
		reg.MustRegister(sipCollector{gw})
	}

	loopbackOnly := IsLoopback(cfg.Listen)
	if cfg.WebRTC.LoopbackOnly != nil {
		loopbackOnly = *cfg.WebRTC.LoopbackOnly
	}
	static, err := fs.Sub(webclient.Files(), ".")
	if err != nil {
		return nil, err
	}
	sig, err := signaling.New(signaling.Config{
		DemoTokens: cfg.Auth.DemoTokens, DemoUsers: users, TokenTTL: cfg.Auth.TokenTTL,
		MessagesPerSecond: cfg.Signaling.MessagesPerSecond,
		WebRTC: signaling.WebRTCConfig{
			PortMin: cfg.WebRTC.PortMin, PortMax: cfg.WebRTC.PortMax, PublicIPs: cfg.WebRTC.PublicIPs,
			LoopbackOnly: loopbackOnly, ICEServers: cfg.WebRTC.ICEServers, UDPPort: cfg.WebRTC.UDPPort,
			FastPath: cfg.WebRTC.FastPath,
		},
	}, auth, center,
		signaling.WithLogger(log), signaling.WithCounters(counters), signaling.WithRegisterer(reg),
		signaling.WithStatic(static), signaling.WithRecords(db), signaling.WithRecordings(recDir), signaling.WithHandler("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	if err != nil {
		center.Close()
		closeGateway(gw)
		_ = music.Close()
		_ = db.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		center.Close()
		closeGateway(gw)
		_ = music.Close()
		_ = db.Close()
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), Config: cfg, log: log, sig: sig, center: center, gw: gw, db: db, music: music, ln: ln, served: make(chan error, 1)}
	if gw != nil {
		s.SIPAddr = gw.Addr()
	}
	go func() { s.served <- sig.Serve(ln) }()
	log.Info("serving", "addr", s.Addr, "loopback_only_ice", loopbackOnly, "queues", len(ccfg.Queues))
	return s, nil
}

// Shutdown stops accepting, ends every call (reason shutdown) and stops serving.
func (s *Server) Shutdown(ctx context.Context) error {
	s.log.Info("shutting down")
	s.sig.Drain()
	s.center.Close()   // every call ends with reason "shutdown", told to its parties
	closeGateway(s.gw) // after the calls: their phones' BYEs go out first
	err := s.sig.Shutdown(ctx)
	// A shutdown right after Start can run before the HTTP server has taken the listener, and
	// would then not stop it: closing the listener ourselves ends Serve either way.
	_ = s.ln.Close()
	_ = s.music.Close()
	err = errors.Join(err, s.db.Close())
	select {
	case e := <-s.served:
		if e != nil && !errors.Is(e, net.ErrClosed) {
			err = errors.Join(err, e)
		}
	case <-ctx.Done():
		err = errors.Join(err, ctx.Err())
	}
	return err
}

func registerMediaMetrics(reg *prometheus.Registry, c *media.Counters, center *call.Center) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vcc_forwarded_packets_total", Help: "RTP packets delivered to receivers."},
			func() float64 { return float64(c.Packets.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vcc_forwarded_bytes_total", Help: "RTP payload bytes delivered to receivers."},
			func() float64 { return float64(c.Bytes.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vcc_forward_errors_total", Help: "RTP writes to receivers that failed."},
			func() float64 { return float64(c.Errors.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vcc_calls", Help: "Calls in progress (waiting or connected)."},
			func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				st, err := center.Stats(ctx)
				if err != nil {
					return 0
				}
				return float64(st.Calls)
			}),
	)
}

// NewLogger returns a text logger at level ("debug", "info", "warn", "error").
func NewLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
