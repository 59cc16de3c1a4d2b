// Package gateway is the SIP gateway: phones join calls as parties. A phone leg is a call.Endpoint
// like a browser peer: its one source is the phone's voice as Opus RTP at 48 kHz, and it receives
// one attached Opus source at a time, transcoded to the G.711 the phone speaks, or passed through
// untouched to a phone that speaks Opus. The call logic and the rooms never know a party is on a
// phone beyond its Caps (audio only).
//
// Inbound, an INVITE is answered at once and the caller waits in a queue hearing music, like a
// browser customer (Center.Enqueue). Outbound, the Gateway is the call.Dialer that reaches
// external numbers through a trunk. SIP runs on github.com/emiago/sipgo over UDP and TCP.
package gateway

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/contactcenter/vcc/call"
)

// Config configures a Gateway. Zero fields take the defaults noted.
type Config struct {
	Listen     string   // HOST:PORT for SIP; port 0 picks a free one (Addr tells which)
	Transports []string // "udp" and/or "tcp" (default both, on the same port)
	// Host is the address put in Contact and Via headers (default: the listen host). Set it when
	// listening on 0.0.0.0 or behind a 1:1 NAT.
	Host string
	// RTPIP is where phone legs receive RTP, and the address in our SDP (default: the listen host;
	// with an unspecified listen host, Host).
	RTPIP                  string
	RTPPortMin, RTPPortMax int           // RTP (even) and RTCP (odd) ports (0, 0: any free pair)
	RTPTimeout             time.Duration // a leg whose phone sends no RTP this long ends (default 30 s)
	RTCPInterval           time.Duration // mean time between our RTCP reports to a phone (default 5 s)
	// SRTP is what inbound calls may use: SRTPOptional (default: SDES-keyed RTP/SAVP offers are
	// answered encrypted, RTP/AVP ones in the clear), SRTPRequired or SRTPOff.
	SRTP string
	// Numbers maps a dialled number (the request URI's user) to a queue ("" for the default queue).
	// Empty: every number goes to the default queue. Otherwise a number not listed is refused with
	// 404, unless the key "*" gives a queue for every other number.
	Numbers map[string]string
	// Allow lists the addresses or prefixes (CIDR) allowed to call in; others get 403. Empty:
	// nobody. Default (nil): loopback only.
	Allow []string
	// Auth, when it names users, makes callers answer a digest challenge (401) before an INVITE
	// is taken.
	Auth  InboundAuth
	Trunk Trunk
	// TLS, when its Listen is set, also serves SIP over TLS there (certificate and key: PEM files).
	TLS TLSConfig
	// UserAgent is the User-Agent header and the SDP session name (default "vcc").
	UserAgent string
}

// TLSConfig is SIP over TLS for phones, PBXs and trunks that require it.
type TLSConfig struct {
	Listen            string // HOST:PORT (usually :5061); empty: no TLS
	CertFile, KeyFile string
}

// Trunk is where outbound calls go.
type Trunk struct {
	URI      string // e.g. "sip:gw.example.net:5060;transport=tcp"; empty: no outbound calls
	Username string // digest credentials, answered when the trunk challenges (401 or 407)
	Password string
	CallerID string // user part of the From header (default "vcc")
	// CAFile (PEM) holds the certificates that sign a TLS trunk's certificate, for a private PKI;
	// empty: the system's roots. The trunk's host name (or IP) must match its certificate.
	CAFile string
	// SRTP offers RTP/SAVP with an SDES key (AES_CM_128_HMAC_SHA1_80) on outbound calls; the
	// trunk must answer with SRTP.
	SRTP bool
}

// Queuer is where inbound callers wait for an agent: *call.Center.
type Queuer interface {
	Enqueue(ctx context.Context, u call.UserRef, queue string, ep call.Endpoint, n call.Notifier) (call.CallID, error)
}

// Option configures a Gateway.
type Option func(*Gateway)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(g *Gateway) { g.log = l } }

// Gateway serves SIP: it turns inbound INVITEs into queued customers and dials numbers for the
// calls (call.Dialer).
type Gateway struct {
	cfg   Config
	log   *slog.Logger
	host  string
	port  int
	rtpIP netip.Addr
	allow []netip.Prefix
	auth  *digestAuth // nil: callers are not challenged
	trunk *sip.Uri
	// trunkTLS verifies a TLS trunk's certificate (nil: the trunk is not dialled over TLS).
	trunkTLS *tls.Config
	ports    *portRange
	queuer   atomic.Pointer[queuerRef]
	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	dialogs  map[string]*sipgo.DialogUA // by transport
	contact  sip.ContactHeader
	udp      net.PacketConn
	tcp      net.Listener
	tls      net.Listener

	mu      sync.Mutex
	legs    map[string]*Leg // by Call-ID
	closing bool
	wg      sync.WaitGroup // the clock, BYEs, serving

	clock   legClock
	muxMu   sync.Mutex
	muxes   map[muxKey]*downMux // the sources legs hear, by source and law
	totals  totals
	started atomic.Uint64
}

type queuerRef struct{ Queuer }

// New binds the SIP socket(s) and starts serving. Inbound calls are refused (503) until
// ServeInbound names where callers wait; Dial works at once.
func New(cfg Config, opts ...Option) (*Gateway, error) {
	g := &Gateway{cfg: cfg, log: slog.Default(), legs: map[string]*Leg{}, dialogs: map[string]*sipgo.DialogUA{}, muxes: map[muxKey]*downMux{}}
	g.clock.init(g)
	for _, o := range opts {
		o(g)
	}
	if err := g.configure(); err != nil {
		return nil, err
	}
	if err := g.listen(); err != nil {
		return nil, err
	}
	if err := g.listenTLS(); err != nil {
		g.closeSockets()
		return nil, err
	}
	if err := g.serve(); err != nil {
		g.closeSockets()
		return nil, err
	}
	g.log.Info("sip gateway listening", "addr", g.Addr(), "transports", g.cfg.Transports, "rtp_ip", g.rtpIP, "trunk", g.cfg.Trunk.URI)
	return g, nil
}

func (g *Gateway) configure() error {
	var err error
	if g.auth, err = newDigestAuth(g.cfg.Auth); err != nil {
		return err
	}
	c := &g.cfg
	if len(c.Transports) == 0 {
		c.Transports = []string{"udp", "tcp"}
	}
	for i, t := range c.Transports {
		t = strings.ToLower(t)
		if t != "udp" && t != "tcp" {
			return fmt.Errorf("%w: transport %q (udp and tcp are supported)", ErrConfig, t)
		}
		c.Transports[i] = t
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("%w: listen %q: %v", ErrConfig, c.Listen, err)
	}
	if c.Host == "" {
		c.Host = host
	}
	if c.Host == "" || c.Host == "0.0.0.0" || c.Host == "::" {
		return fmt.Errorf("%w: listening on %q needs sip host (the address phones reach)", ErrConfig, c.Listen)
	}
	g.host = c.Host
	rtp := c.RTPIP
	if rtp == "" {
		rtp = host
		if a, err := netip.ParseAddr(host); err != nil || a.IsUnspecified() {
			rtp = c.Host
		}
	}
	if g.rtpIP, err = netip.ParseAddr(rtp); err != nil {
		return fmt.Errorf("%w: rtp ip %q must be an IP address", ErrConfig, rtp)
	}
	if c.RTPPortMin < 0 || c.RTPPortMax > 65535 || c.RTPPortMin > c.RTPPortMax || (c.RTPPortMin == 0) != (c.RTPPortMax == 0) {
		return fmt.Errorf("%w: rtp ports %d-%d", ErrConfig, c.RTPPortMin, c.RTPPortMax)
	}
	g.ports = newPortRange(g.rtpIP, c.RTPPortMin, c.RTPPortMax)
	if c.RTPTimeout == 0 {
		c.RTPTimeout = 30 * time.Second
	}
	switch c.SRTP {
	case "":
		c.SRTP = SRTPOptional
	case SRTPOptional, SRTPRequired, SRTPOff:
	default:
		return fmt.Errorf("%w: srtp %q (optional, required or off)", ErrConfig, c.SRTP)
	}
	if c.RTCPInterval <= 0 {
		c.RTCPInterval = 5 * time.Second // RFC 3550 6.2's minimum
	}
	if c.Allow == nil {
		c.Allow = []string{"127.0.0.0/8", "::1/128"}
	}
	for _, a := range c.Allow {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			ip, err2 := netip.ParseAddr(a)
			if err2 != nil {
				return fmt.Errorf("%w: allow %q: %v", ErrConfig, a, err)
			}
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		g.allow = append(g.allow, p.Masked())
	}
	if c.UserAgent == "" {
		c.UserAgent = "vcc"
	}
	if c.Trunk.CallerID == "" {
		c.Trunk.CallerID = "vcc"
	}
	if c.Trunk.URI != "" {
		var u sip.Uri
		if err := sip.ParseUri(c.Trunk.URI, &u); err != nil || u.Host == "" {
			return fmt.Errorf("%w: trunk uri %q: %v", ErrConfig, c.Trunk.URI, err)
		}
		g.trunk = &u
		if t, _ := u.UriParams.Get("transport"); strings.EqualFold(t, "tls") {
			if c.TLS.Listen == "" {
				// Our Contact must say where the trunk's in-dialog requests reach us over TLS.
				return fmt.Errorf("%w: trunk uri %q uses TLS: set sip tls listen too", ErrConfig, c.Trunk.URI)
			}
			g.trunkTLS = &tls.Config{MinVersion: tls.VersionTLS12}
			if c.Trunk.CAFile != "" {
				pem, err := os.ReadFile(c.Trunk.CAFile)
				if err != nil {
					return fmt.Errorf("%w: trunk ca file: %v", ErrConfig, err)
				}
				g.trunkTLS.RootCAs = x509.NewCertPool()
				if !g.trunkTLS.RootCAs.AppendCertsFromPEM(pem) {
					return fmt.Errorf("%w: trunk ca file %s holds no PEM certificate", ErrConfig, c.Trunk.CAFile)
				}
			}
		}
	}
	return nil
}

// listen binds UDP and TCP on one port (port 0: a free one both transports can have).
func (g *Gateway) listen() error {
	var lastErr error
	for range 20 {
		err := g.bind(g.cfg.Listen)
		if err == nil {
			return nil
		}
		g.closeSockets()
		lastErr = err
		if _, p, _ := net.SplitHostPort(g.cfg.Listen); p != "0" {
			break // a fixed port: retrying will not help
		}
	}
	return fmt.Errorf("gateway: listen %s: %w", g.cfg.Listen, lastErr)
}

func (g *Gateway) bind(addr string) error {
	for _, t := range g.cfg.Transports {
		switch t {
		case "udp":
			c, err := net.ListenPacket("udp", addr)
			if err != nil {
				return err
			}
			g.udp = c
			addr = c.LocalAddr().String()
		case "tcp":
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			g.tcp = l
			addr = l.Addr().String()
		}
	}
	_, p, _ := net.SplitHostPort(addr)
	g.port, _ = strconv.Atoi(p)
	return nil
}

// listenTLS opens the TLS listener when configured.
func (g *Gateway) listenTLS() error {
	c := g.cfg.TLS
	if c.Listen == "" {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return fmt.Errorf("%w: tls certificate: %v", ErrConfig, err)
	}
	l, err := tls.Listen("tcp", c.Listen, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return fmt.Errorf("gateway: listen tls %s: %w", c.Listen, err)
	}
	g.tls = l
	return nil
}

// TLSAddr is where SIP over TLS listens ("" when it does not).
func (g *Gateway) TLSAddr() string {
	if g.tls == nil {
		return ""
	}
	_, p, _ := net.SplitHostPort(g.tls.Addr().String())
	return net.JoinHostPort(g.host, p)
}

func (g *Gateway) closeSockets() {
	if g.udp != nil {
		_ = g.udp.Close()
		g.udp = nil
	}
	if g.tcp != nil {
		_ = g.tcp.Close()
		g.tcp = nil
	}
	if g.tls != nil {
		_ = g.tls.Close()
		g.tls = nil
	}
}

func (g *Gateway) serve() error {
	slog := g.log.With("component", "sipgo")
	uaOpts := []sipgo.UserAgentOption{
		sipgo.WithUserAgent(g.cfg.UserAgent),
		sipgo.WithUserAgentHostname(g.host),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(slog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(slog)),
	}
	if g.trunkTLS != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(g.trunkTLS))
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		return err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(slog))
	if err != nil {
		_ = ua.Close()
		return err
	}
	g.ua, g.srv = ua, srv
	g.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: g.cfg.Trunk.CallerID, Host: g.host, Port: g.port}}
	hostPort := net.JoinHostPort(g.host, strconv.Itoa(g.port))
	for _, t := range g.cfg.Transports {
		opts := []sipgo.ClientOption{sipgo.WithClientLogger(slog), sipgo.WithClientHostname(g.host), sipgo.WithClientPort(g.port)}
		if t == "udp" {
			// Requests leave from the listening socket, so replies and the peer's in-dialog
			// requests come back to it.
			opts = append(opts, sipgo.WithClientConnectionAddr(g.udp.LocalAddr().String()))
		}
		cli, err := sipgo.NewClient(ua, opts...)
		if err != nil {
			_ = ua.Close()
			return err
		}
		contact := g.contact
		if t == "tcp" {
			contact.Address.UriParams = sip.NewParams()
			contact.Address.UriParams.Add("transport", "tcp")
		}
		g.dialogs[t] = &sipgo.DialogUA{Client: cli, ContactHDR: contact}
	}
	if g.tls != nil {
		_, p, _ := net.SplitHostPort(g.tls.Addr().String())
		port, _ := strconv.Atoi(p)
		cli, err := sipgo.NewClient(ua, sipgo.WithClientLogger(slog), sipgo.WithClientHostname(g.host), sipgo.WithClientPort(port))
		if err != nil {
			_ = ua.Close()
			return err
		}
		contact := g.contact
		contact.Address.Port = port
		contact.Address.UriParams = sip.NewParams()
		contact.Address.UriParams.Add("transport", "tls")
		g.dialogs["tls"] = &sipgo.DialogUA{Client: cli, ContactHDR: contact}
	}
	srv.OnInvite(g.onInvite)
	srv.OnAck(g.onAck)
	srv.OnBye(g.onBye)
	srv.OnUpdate(g.onUpdate)
	srv.OnInfo(g.onInfo)
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO"))
		_ = tx.Respond(res)
	})
	srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		// A CANCEL matching a pending INVITE is answered by the transaction layer.
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
	})
	if g.udp != nil {
		g.wg.Add(1)
		go func() { defer g.wg.Done(); _ = srv.ServeUDP(g.udp) }()
	}
	if g.tcp != nil {
		g.wg.Add(1)
		go func() { defer g.wg.Done(); _ = srv.ServeTCP(g.tcp) }()
	}
	if g.tls != nil {
		g.wg.Add(1)
		go func() { defer g.wg.Done(); _ = srv.ServeTLS(g.tls) }()
	}
	// Requests sent through the listening UDP socket need it registered first (else sipgo binds
	// the same address again and fails).
	if g.udp != nil {
		deadline := time.Now().Add(5 * time.Second)
		for {
			if c, _ := ua.TransportLayer().GetConnection("udp", g.udp.LocalAddr().String()); c != nil {
				break
			}
			if time.Now().After(deadline) {
				_ = ua.Close()
				return fmt.Errorf("gateway: udp transport did not start on %s", hostPort)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	return nil
}

// Addr is where SIP listens, HOST:PORT with the real port.
func (g *Gateway) Addr() string { return net.JoinHostPort(g.host, strconv.Itoa(g.port)) }

// ServeInbound starts accepting inbound calls; callers wait in q's queues.
func (g *Gateway) ServeInbound(q Queuer) { g.queuer.Store(&queuerRef{q}) }

// Close ends every leg (sending BYE), waits for the BYEs (a few seconds at most) and stops SIP.
func (g *Gateway) Close() error {
	g.mu.Lock()
	if g.closing {
		g.mu.Unlock()
		return nil
	}
	g.closing = true
	legs := make([]*Leg, 0, len(g.legs))
	for _, l := range g.legs {
		legs = append(legs, l)
	}
	g.mu.Unlock()
	for _, l := range legs {
		_ = l.Close(call.ReasonShutdown)
	}
	g.waitLegs(5 * time.Second)
	err := g.ua.Close()
	g.closeSockets()
	g.wg.Wait()
	s := g.Stats()
	g.log.Info("sip gateway closed", "calls", s.Calls, "rtp_in", s.RTPIn, "rtp_lost", s.RTPLost, "late", s.Late,
		"rtp_out", s.RTPOut, "send_errors", s.SendErrors, "missed_ticks", s.MissedTicks)
	return err
}

// waitLegs waits until every leg has finished (its BYE answered or timed out).
func (g *Gateway) waitLegs(max time.Duration) {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		g.mu.Lock()
		n := len(g.legs)
		g.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (g *Gateway) register(callID string, l *Leg) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	g.legs[callID] = l
	return true
}

func (g *Gateway) unregister(callID string, l *Leg) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.legs[callID] == l {
		delete(g.legs, callID)
	}
}

func (g *Gateway) leg(req *sip.Request) *Leg {
	id := req.CallID()
	if id == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.legs[id.Value()]
}

// allowed says whether a request's source may call in.
func (g *Gateway) allowed(req *sip.Request) bool {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range g.allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// route is the queue a dialled number reaches.
func (g *Gateway) route(number string) (string, bool) {
	if len(g.cfg.Numbers) == 0 {
		return "", true
	}
	if q, ok := g.cfg.Numbers[number]; ok {
		return q, true
	}
	q, ok := g.cfg.Numbers["*"]
	return q, ok
}

func (g *Gateway) dialogUA(transport string) *sipgo.DialogUA {
	if d := g.dialogs[strings.ToLower(transport)]; d != nil {
		return d
	}
	for _, t := range g.cfg.Transports {
		return g.dialogs[t]
	}
	return nil
}

func randUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 1
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
}
