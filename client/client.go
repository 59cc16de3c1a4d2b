// Package client is a Go client of the signaling protocol (docs/protocol.md) with a pion
// PeerConnection: what the end-to-end tests and the load tool use as a "browser".
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/pion/webrtc/v4"
)

// Message is a server message.
type Message struct {
	V    int             `json:"v"`
	Type string          `json:"type"`
	ID   string          `json:"id,omitempty"`
	Re   string          `json:"re,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Error is a protocol error answered by the server.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

var errNoCall = errors.New("client: not in a call")

// Client is one signaling connection and, during a call, one PeerConnection.
type Client struct {
	ws     *websocket.Conn
	api    *webrtc.API
	wmu    sync.Mutex
	seq    atomic.Uint64
	events chan Message
	done   chan struct{}

	mu      sync.Mutex
	waiting map[string]chan Message
	pc      *webrtc.PeerConnection
	tracks  []webrtc.TrackLocal
	onTrack func(*webrtc.TrackRemote, *webrtc.RTPReceiver)
	pending []webrtc.ICECandidateInit
	senders []*webrtc.RTPSender
}

// Dial connects to base (e.g. "http://127.0.0.1:8080") with token. api builds the PeerConnection
// (nil: pion defaults with loopback candidates).
func Dial(ctx context.Context, base, token string, api *webrtc.API) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	u.Path = "/ws"
	u.RawQuery = url.Values{"token": {token}}.Encode()
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, u.String(), nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("client: dial: %w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, fmt.Errorf("client: dial: %w", err)
	}
	if api == nil {
		api = LoopbackAPI()
	}
	c := &Client{ws: ws, api: api, events: make(chan Message, 1024), done: make(chan struct{}), waiting: map[string]chan Message{}}
	go c.read()
	return c, nil
}

// DemoToken fetches a demo token: query is "user=agent1" or "role=customer&name=X".
func DemoToken(ctx context.Context, base, query string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/demo-token?"+query, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("client: demo token: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	return out.Token, nil
}

// AddTrack registers a local track sent once the call's media starts.
func (c *Client) AddTrack(t webrtc.TrackLocal) {
	c.mu.Lock()
	c.tracks = append(c.tracks, t)
	c.mu.Unlock()
}

// OnTrack sets the handler for tracks the server sends.
func (c *Client) OnTrack(f func(*webrtc.TrackRemote, *webrtc.RTPReceiver)) {
	c.mu.Lock()
	c.onTrack = f
	c.mu.Unlock()
}

// PC is the current PeerConnection (nil outside a call).
func (c *Client) PC() *webrtc.PeerConnection {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pc
}

// Senders are the RTPSenders of the local tracks of the current call.
func (c *Client) Senders() []*webrtc.RTPSender {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*webrtc.RTPSender(nil), c.senders...)
}

// Events delivers every server message that is not an answer to a request.
func (c *Client) Events() <-chan Message { return c.events }

// Done is closed when the connection ends.
func (c *Client) Done() <-chan struct{} { return c.done }

// Request sends a message with an id and waits for its ack (nil) or error (*Error).
func (c *Client) Request(ctx context.Context, typ string, data any) error {
	id := "g" + strconv.FormatUint(c.seq.Add(1), 10)
	ch := make(chan Message, 1)
	c.mu.Lock()
	c.waiting[id] = ch
	c.mu.Unlock()
	defer func() { c.mu.Lock(); delete(c.waiting, id); c.mu.Unlock() }()
	if err := c.send(typ, id, data); err != nil {
		return err
	}
	select {
	case m := <-ch:
		if m.Type == "error" {
			e := &Error{}
			_ = json.Unmarshal(m.Data, e)
			return e
		}
		return nil
	case <-c.done:
		return errors.New("client: connection closed")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Send sends a message without an id (no ack).
func (c *Client) Send(typ string, data any) error { return c.send(typ, "", data) }

// SendRaw writes raw bytes as one text frame (for bad-input tests).
func (c *Client) SendRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

func (c *Client) send(typ, id string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(Message{V: 1, Type: typ, ID: id, Data: raw})
	return c.SendRaw(b)
}

// WaitFor returns the next event of type typ for which match (may be nil) holds; other events are
// dropped.
func (c *Client) WaitFor(ctx context.Context, typ string, match func(Message) bool) (Message, error) {
	for {
		select {
		case m := <-c.events:
			if m.Type == typ && (match == nil || match(m)) {
				return m, nil
			}
		case <-c.done:
			// Messages that arrived before the close are still owed to the caller.
			for {
				select {
				case m := <-c.events:
					if m.Type == typ && (match == nil || match(m)) {
						return m, nil
					}
				default:
					return Message{}, errors.New("client: connection closed while waiting for " + typ)
				}
			}
		case <-ctx.Done():
			return Message{}, fmt.Errorf("waiting for %s: %w", typ, ctx.Err())
		}
	}
}

// Close ends the connection and the PeerConnection.
func (c *Client) Close() error {
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	err := c.ws.Close()
	<-c.done
	c.closePC()
	return err
}

func (c *Client) closePC() {
	c.mu.Lock()
	pc := c.pc
	c.pc, c.senders, c.pending = nil, nil, nil
	c.mu.Unlock()
	if pc != nil {
		_ = pc.Close()
	}
}

func (c *Client) read() {
	defer close(c.done)
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var m Message
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		if m.Re != "" {
			c.mu.Lock()
			ch := c.waiting[m.Re]
			c.mu.Unlock()
			if ch != nil {
				ch <- m
				continue
			}
		}
		c.handleMedia(m)
		select {
		case c.events <- m:
		default: // a test that does not drain events must not stall signaling
		}
	}
}
