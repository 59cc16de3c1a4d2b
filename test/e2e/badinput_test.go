package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/client"
	"github.com/contactcenter/vcc/cmd/app"
	"github.com/contactcenter/vcc/signaling"
)

// TestUnauthenticatedWebSocketRefusedBeforeUpgrade: no token, a forged token and an expired token
// each get HTTP 401 with the unauthorized code, and no WebSocket.
func TestUnauthenticatedWebSocketRefusedBeforeUpgrade(t *testing.T) {
	srv := startServer(t)
	forger, _ := signaling.NewAuth(strings.Repeat("x", 40))
	forged, _ := forger.Mint(call.UserRef{ID: "agent1", Name: "A", Role: call.Agent}, time.Hour)
	real, _ := signaling.NewAuth(app.DemoSecret)
	expired, _ := real.Mint(call.UserRef{ID: "agent1", Name: "A", Role: call.Agent}, -time.Minute)
	badRole, _ := real.Mint(call.UserRef{ID: "x", Name: "X", Role: "root"}, time.Hour)
	for name, tok := range map[string]string{"none": "", "forged": forged, "expired": expired, "garbage": "a.b.c", "bad role": badRole} {
		t.Run(name, func(t *testing.T) {
			_, resp, err := websocket.DefaultDialer.Dial("ws://"+srv.Addr+"/ws?token="+tok, nil)
			if err == nil {
				t.Fatal("websocket upgraded without a valid token")
			}
			if resp == nil || resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("want HTTP 401, got %v", resp)
			}
			var body struct{ Code string }
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if body.Code != "unauthorized" {
				t.Fatalf("body code %q", body.Code)
			}
		})
	}
}

// TestBadInputAnsweredWhileOtherCallKeepsMedia: a second connection sends malformed JSON, unknown
// types, an oversized message, garbage SDP and messages its role may not send; each is answered with
// its error code, the connection stays usable, and the call already running keeps its media.
func TestBadInputAnsweredWhileOtherCallKeepsMedia(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	_, _, atCust, _ := mediaCall(t, ctx, srv, "Steady")
	select {
	case <-atCust.got:
	case <-ctx.Done():
		t.Fatal("the steady call never got media")
	}

	bad := dial(t, ctx, srv, "role=customer&name=Mallory")
	expectCode := func(raw string, code string) {
		t.Helper()
		if err := bad.SendRaw([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		m, err := bad.WaitFor(ctx, "error", nil)
		if err != nil {
			t.Fatal(err)
		}
		var e client.Error
		_ = json.Unmarshal(m.Data, &e)
		if e.Code != code || e.Message == "" {
			t.Fatalf("%.60q: got error %q %q, want code %q", raw, e.Code, e.Message, code)
		}
	}
	expectCode(`{"type":"join",`, "bad_request")
	expectCode(`[1,2,3]`, "bad_request")
	expectCode(`{"v":1,"type":"teleport","id":"x1"}`, "unknown_type")
	expectCode(`{"v":7,"type":"join"}`, "unsupported_version")
	expectCode(`{"type":"join","data":{"queue":"general","extra":1}}`, "bad_request")
	expectCode(`{"type":"join","data":{"queue":"`+strings.Repeat("q", 70<<10)+`"}}`, "too_large")
	expectCode(`{"type":"accept","data":{"call_id":"c1"}}`, "forbidden") // a customer may not accept calls
	expectCode(`{"type":"agent_state","data":{"state":"available"}}`, "forbidden")
	expectCode(`{"type":"offer","data":{"sdp":"v=0 garbage"}}`, "invalid_state") // not in a call yet
	expectCode(`{"type":"join","data":{"queue":"nope"}}`, "not_found")

	// In a call (waiting in the queue) garbage SDP is refused as bad_sdp and the call survives.
	if err := bad.Request(ctx, "join", map[string]string{}); err != nil {
		t.Fatal(err)
	}
	expectRequest := func(typ string, data any, code string) {
		t.Helper()
		err := bad.Request(ctx, typ, data)
		var e *client.Error
		if !errors.As(err, &e) || e.Code != code {
			t.Fatalf("%s %v: got %v, want code %q", typ, data, err, code)
		}
	}
	expectRequest("offer", map[string]string{"sdp": "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\nm=video garbage"}, "bad_sdp")
	expectRequest("offer", map[string]string{"sdp": "\x00\xff not sdp at all"}, "bad_sdp")
	expectRequest("candidate", map[string]string{"candidate": "candidate:garbage"}, "bad_request")
	expectRequest("join", map[string]string{}, "invalid_state") // already in a call

	// The same connection still works.
	if err := bad.Request(ctx, "ping", struct{}{}); err != nil {
		t.Fatalf("connection unusable after bad input: %v", err)
	}
	// And the steady call's media keeps flowing.
	before := atCust.video.Load()
	for atCust.video.Load() < before+25 {
		select {
		case <-ctx.Done():
			t.Fatalf("steady call stopped: %d -> %d video packets", before, atCust.video.Load())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
