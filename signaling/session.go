package signaling

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/gofiber/contrib/websocket"
	"golang.org/x/time/rate"

	"github.com/contactcenter/vcc/call"
)

// session is one authenticated WebSocket: a user, their outbound queue, and the peer of the call
// they are in. It is the call.Notifier for that user.
type session struct {
	srv     *Server
	user    call.UserRef
	conn    *websocket.Conn
	log     *slog.Logger
	limiter *rate.Limiter
	out     chan []byte
	done    chan struct{}
	wrote   chan struct{} // closed when the writer has stopped touching the socket
	once    sync.Once

	mu     sync.Mutex
	peer   *peer
	callID call.CallID
}

const (
	outQueue     = 256
	writeTimeout = 10 * time.Second
	requestLimit = 5 * time.Second
)

func newSession(srv *Server, conn *websocket.Conn, u call.UserRef) *session {
	return &session{
		srv: srv, user: u, conn: conn,
		log:     srv.log.With("user", u.ID, "role", u.Role),
		limiter: rate.NewLimiter(rate.Limit(srv.cfg.MessagesPerSecond), srv.cfg.MessagesPerSecond*4),
		out:     make(chan []byte, outQueue),
		done:    make(chan struct{}),
		wrote:   make(chan struct{}),
	}
}

// serve runs the session until the socket closes.
func (s *session) serve() {
	go s.writer()
	s.send("welcome", welcomeMsg{Protocol: ProtocolVersion, User: userMsg{ID: s.user.ID, Name: s.user.Name, Role: string(s.user.Role)}})
	// The socket's own limit is far above the protocol's so an oversized message can still be
	// answered with too_large instead of a dropped connection.
	s.conn.SetReadLimit(MaxMessageSize * 16)
	for {
		mt, b, err := s.conn.ReadMessage()
		if err != nil {
			break
		}
		if mt != websocket.TextMessage {
			s.refuse("", newError(CodeBadRequest, "binary frames are not part of the protocol"))
			continue
		}
		if !s.limiter.Allow() {
			s.refuse("", newError(CodeRateLimited, "too many messages; slow down"))
			continue
		}
		s.handle(b)
	}
	s.close()
	// The WebSocket library recycles the connection when this handler returns: the writer must
	// be done with it first.
	<-s.wrote
}

func (s *session) handle(b []byte) {
	env, perr := Decode(b)
	if perr != nil {
		s.refuse(env.ID, perr)
		return
	}
	h, ok := s.srv.handlers[env.Type]
	if !ok {
		s.refuse(env.ID, newError(CodeUnknownType, "unknown message type "+quote(env.Type)))
		return
	}
	if !h.allows(s.user.Role) {
		s.refuse(env.ID, newError(CodeForbidden, "a "+string(s.user.Role)+" may not send "+env.Type))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestLimit)
	defer cancel()
	if err := h.fn(s, ctx, env.Data); err != nil {
		s.refuse(env.ID, toProto(err))
		return
	}
	if env.ID != "" {
		s.reply(env.ID, "ack", struct{}{})
	}
}

func (s *session) refuse(re string, e *protoError) {
	s.srv.metrics.errors.WithLabelValues(e.code).Inc()
	if e.code == CodeInternal {
		s.log.Error("request failed", "code", e.code, "err", e.msg)
	} else {
		s.log.Info("request refused", "code", e.code, "err", e.msg)
	}
	msg := e.msg
	if e.code == CodeInternal {
		msg = "internal error"
	}
	s.reply(re, "error", errorMsg{Code: e.code, Message: msg})
}

func (s *session) send(typ string, data any) { s.reply("", typ, data) }

// reply queues a message; a client that does not read its socket is disconnected rather than
// allowed to hold server memory or stall the caller (a call loop, a pion callback).
func (s *session) reply(re, typ string, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		s.log.Error("encoding message", "type", typ, "err", err)
		return
	}
	b, _ := json.Marshal(Envelope{V: ProtocolVersion, Type: typ, Re: re, Data: raw})
	select {
	case <-s.done:
	case s.out <- b:
	default:
		s.log.Warn("client too slow; closing", "type", typ)
		go s.close()
	}
}

// goodbye queues a close frame behind everything already queued (server shutdown).
func (s *session) goodbye() {
	select {
	case s.out <- nil:
	case <-s.done:
	default:
		s.close()
	}
}

func (s *session) writer() {
	defer close(s.wrote)
	for {
		select {
		case b := <-s.out:
			_ = s.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if b == nil {
				_ = s.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"))
				s.close()
				return
			}
			if err := s.conn.WriteMessage(websocket.TextMessage, b); err != nil {
				s.close()
				return
			}
		case <-s.done:
			return
		}
	}
}

// Notify is the call.Notifier: domain events become protocol messages.
func (s *session) Notify(ev call.Event) {
	if e, ok := ev.(call.CallEnded); ok {
		s.mu.Lock()
		if s.callID == e.CallID {
			s.peer, s.callID = nil, ""
		}
		s.mu.Unlock()
	}
	typ, data := encodeEvent(ev)
	if typ != "" {
		s.send(typ, data)
	}
}

// startCall creates the peer for a call about to be joined.
func (s *session) newPeer() (*peer, error) {
	s.mu.Lock()
	busy := s.peer != nil
	s.mu.Unlock()
	if busy {
		return nil, newError(CodeInvalidState, "already in a call")
	}
	return newPeer(s.srv.api, s.srv.fast, call.PartyID(s.user.ID), s.user.Role, s.send, s.srv.counters, s.log)
}

func (s *session) setPeer(p *peer, id call.CallID) {
	s.mu.Lock()
	s.peer, s.callID = p, id
	s.mu.Unlock()
	s.srv.metrics.parties.Inc()
	go func() { <-p.ctx.Done(); s.srv.metrics.parties.Dec() }()
	s.send("media_start", mediaStartMsg{CallID: string(id), ICEServers: s.srv.iceServers()})
}

func (s *session) currentPeer() (*peer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peer == nil {
		return nil, newError(CodeInvalidState, "not in a call")
	}
	return s.peer, nil
}

func (s *session) close() {
	s.once.Do(func() {
		close(s.done)
		_ = s.conn.Close()
		s.srv.center.Disconnect(s.user)
		s.mu.Lock()
		p := s.peer
		s.peer = nil
		s.mu.Unlock()
		if p != nil {
			_ = p.Close(call.ReasonDisconnected)
		}
		s.srv.forget(s)
	})
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	b, _ := json.Marshal(s)
	return string(b)
}
