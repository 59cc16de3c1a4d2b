// Package signaling serves browser parties: the HTTP and WebSocket API, token authentication, the
// wire protocol, and each browser's PeerConnection, which reaches the rest of the server only as a
// call.Endpoint whose media are media.Sources and media.Sinks.
package signaling

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/signaling/fastpath"
)

// Config configures the browser-facing server.
type Config struct {
	DemoTokens        bool           // serve /api/demo-token (only honoured on a loopback listener)
	DemoUsers         []call.UserRef // users /api/demo-token mints for
	TokenTTL          time.Duration  // lifetime of demo tokens
	MessagesPerSecond int            // per connection
	WebRTC            WebRTCConfig
}

// Server is the HTTP + WebSocket front of the media server.
type Server struct {
	cfg        Config
	auth       *Auth
	center     *call.Center
	api        *webrtc.API
	fast       *fastpath.Port // nil unless WebRTCConfig.FastPath
	reg        prometheus.Registerer
	closeMedia func() error // releases the single media port (WebRTCConfig.UDPPort)
	log        *slog.Logger
	counters   *media.Counters
	metrics    *metrics
	handlers   map[string]handler
	app        *fiber.App
	static     fs.FS
	store      call.Store
	recDir     string
	extra      map[string]http.Handler
	loopback   atomic.Bool
	ready      atomic.Bool
	draining   atomic.Bool

	mu       sync.Mutex
	sessions map[*session]struct{}
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithCounters shares forwarding counters (exported by the caller as metrics).
func WithCounters(c *media.Counters) Option { return func(s *Server) { s.counters = c } }

// WithStatic serves the web client from fsys at /.
func WithStatic(fsys fs.FS) Option { return func(s *Server) { s.static = fsys } }

// WithRecords serves call records over REST from st.
func WithRecords(st call.Store) Option { return func(s *Server) { s.store = st } }

// WithHandler mounts a plain net/http handler at path (e.g. /metrics).
func WithHandler(path string, h http.Handler) Option {
	return func(s *Server) { s.extra[path] = h }
}

// WithRegisterer registers the server's metrics.
func WithRegisterer(r prometheus.Registerer) Option {
	return func(s *Server) { s.metrics, s.reg = newMetrics(r), r }
}

// New builds the server; Serve starts it.
func New(cfg Config, auth *Auth, center *call.Center, opts ...Option) (*Server, error) {
	if cfg.MessagesPerSecond <= 0 {
		cfg.MessagesPerSecond = 50
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 12 * time.Hour
	}
	s := &Server{cfg: cfg, auth: auth, center: center, log: slog.Default(), extra: map[string]http.Handler{}, sessions: map[*session]struct{}{}}
	for _, o := range opts {
		o(s)
	}
	if s.metrics == nil {
		s.metrics = newMetrics(nil)
	}
	if s.counters == nil {
		s.counters = &media.Counters{}
	}
	api, fast, closeMedia, err := newAPI(cfg.WebRTC, s.log)
	if err != nil {
		return nil, err
	}
	s.api, s.fast, s.closeMedia = api, fast, closeMedia
	if fast != nil && s.reg != nil {
		registerFastMetrics(s.reg, fast)
	}
	s.handlers = handlerTable()
	s.app = fiber.New(fiber.Config{
		DisableStartupMessage: true,
		BodyLimit:             MaxMessageSize,
		ReadTimeout:           30 * time.Second,
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			code := fiber.StatusInternalServerError
			var fe *fiber.Error
			if errors.As(err, &fe) {
				code = fe.Code
			}
			return c.Status(code).JSON(errorMsg{Code: httpCode(code), Message: err.Error()})
		},
	})
	s.routes()
	return s, nil
}

func httpCode(status int) string {
	switch status {
	case fiber.StatusUnauthorized:
		return CodeUnauthorized
	case fiber.StatusNotFound:
		return CodeNotFound
	case fiber.StatusForbidden:
		return CodeForbidden
	case fiber.StatusRequestEntityTooLarge:
		return CodeTooLarge
	}
	if status >= 500 {
		return CodeInternal
	}
	return CodeBadRequest
}

func (s *Server) routes() {
	s.app.Get("/healthz", func(c *fiber.Ctx) error {
		if !s.ready.Load() || s.draining.Load() {
			return c.Status(fiber.StatusServiceUnavailable).SendString("not ready")
		}
		return c.SendString("ok")
	})
	for path, h := range s.extra {
		s.app.Get(path, adaptor.HTTPHandler(h))
	}
	api := s.app.Group("/api")
	api.Get("/demo-token", s.demoToken)
	api.Get("/queues", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"queues": s.center.QueueNames()}) })
	s.restRoutes(api)
	api.Use(func(c *fiber.Ctx) error { return fiber.NewError(fiber.StatusNotFound, "no such API endpoint") })

	s.app.Use("/ws", s.authorize)
	s.app.Get("/ws", websocket.New(func(conn *websocket.Conn) {
		u, _ := conn.Locals("user").(call.UserRef)
		sess := newSession(s, conn, u)
		if !s.remember(sess) {
			_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"))
			return
		}
		sess.log.Info("connected")
		sess.serve()
		sess.log.Info("disconnected")
	}))
	if s.static != nil {
		s.app.Use("/", filesystem.New(filesystem.Config{Root: http.FS(s.static), Index: "index.html"}))
	}
}

// authorize refuses an unauthenticated WebSocket before the upgrade.
func (s *Server) authorize(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return fiber.NewError(fiber.StatusUpgradeRequired, "WebSocket upgrade required")
	}
	if s.draining.Load() {
		return fiber.NewError(fiber.StatusServiceUnavailable, "server shutting down")
	}
	token := c.Query("token")
	if h := c.Get(fiber.HeaderAuthorization); token == "" && strings.HasPrefix(h, "Bearer ") {
		token = strings.TrimPrefix(h, "Bearer ")
	}
	u, err := s.auth.Verify(token)
	if err != nil {
		s.metrics.errors.WithLabelValues(CodeUnauthorized).Inc()
		s.log.Info("websocket refused", "remote", c.IP(), "err", err)
		return fiber.NewError(fiber.StatusUnauthorized, err.Error())
	}
	c.Locals("user", u)
	return c.Next()
}

func (s *Server) demoToken(c *fiber.Ctx) error {
	if !s.cfg.DemoTokens || !s.loopback.Load() {
		return fiber.NewError(fiber.StatusNotFound, "demo tokens are served only on a loopback listener")
	}
	var u call.UserRef
	if id := c.Query("user"); id != "" {
		for _, d := range s.cfg.DemoUsers {
			if d.ID == id {
				u = d
			}
		}
		if u.ID == "" {
			return fiber.NewError(fiber.StatusNotFound, "no demo user "+quote(id))
		}
	} else {
		if c.Query("role") != string(call.Customer) {
			return fiber.NewError(fiber.StatusBadRequest, "give user=<demo user id> or role=customer")
		}
		name := strings.TrimSpace(c.Query("name"))
		if name == "" || len(name) > 64 {
			name = "Guest"
		}
		u = call.UserRef{ID: "guest-" + randomID(), Name: name, Role: call.Customer}
	}
	tok, err := s.auth.Mint(u, s.cfg.TokenTTL)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"token": tok, "user": userMsg{ID: u.ID, Name: u.Name, Role: string(u.Role)}})
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		s.loopback.Store(true)
	}
	s.ready.Store(true)
	return s.app.Listener(ln)
}

// Drain refuses new WebSockets (503) and reports not ready; open sessions go on, so the calls can
// still be ended cleanly and their parties told why.
func (s *Server) Drain() { s.draining.Store(true) }

// Shutdown drains, says goodbye to every open session once what is queued for it has been written
// (or ctx ends), and stops the HTTP server.
func (s *Server) Shutdown(ctx context.Context) error {
	s.Drain()
	s.mu.Lock()
	open := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		open = append(open, sess)
	}
	s.mu.Unlock()
	for _, sess := range open {
		sess.goodbye()
	}
	for _, sess := range open {
		select {
		case <-sess.done:
		case <-ctx.Done():
			sess.close()
		}
	}
	err := s.app.ShutdownWithContext(ctx)
	return errors.Join(err, s.closeMedia())
}

func (s *Server) remember(sess *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining.Load() {
		return false
	}
	s.sessions[sess] = struct{}{}
	s.metrics.sessions.Inc()
	return true
}

func (s *Server) forget(sess *session) {
	s.mu.Lock()
	if _, ok := s.sessions[sess]; ok {
		delete(s.sessions, sess)
		s.metrics.sessions.Dec()
	}
	s.mu.Unlock()
}

func (s *Server) iceServers() []iceServer {
	if len(s.cfg.WebRTC.ICEServers) == 0 {
		return []iceServer{}
	}
	return []iceServer{{URLs: s.cfg.WebRTC.ICEServers}}
}
