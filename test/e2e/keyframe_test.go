package e2e

import (
	"context"
	"testing"
	"time"
)

// TestViewerThatNeverAsksGetsAKeyframe: a party that joins a running MCU picture and never sends a
// PLI still gets its first picture at once. The room answers a new viewer with a keyframe, but that
// one goes out while the viewer's track is still being negotiated and is dropped; so the server
// asks again itself when the track is bound and when the connection comes up. Without that, this
// viewer waited for the encoder's periodic keyframe (300 composite frames: 15-30 s here).
func TestViewerThatNeverAsksGetsAKeyframe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := startServer(t)
	admin := dial(t, ctx, srv, "user=admin1")
	defer admin.Close()
	if err := admin.Request(ctx, "video_mode", map[string]string{"mode": "mcu"}); err != nil {
		t.Fatal(err)
	}
	cust := newParty(t, ctx, srv, "role=customer&name=Lee", 0)
	a := newParty(t, ctx, srv, "user=agent1", 1)
	helper := newParty(t, ctx, srv, "user=agent2", 2)
	for _, p := range []*party{cust, a, helper} {
		defer p.c.Close()
	}
	helper.noPLI.Store(true)
	id := connectCall(t, ctx, cust.c, a.c)
	waitPictures(t, ctx, cust, 5) // the picture is running before the helper joins it
	if err := helper.c.Request(ctx, "agent_state", map[string]string{"state": "available"}); err != nil {
		t.Fatal(err)
	}
	if err := a.c.Request(ctx, "consult", map[string]string{"kind": "agent", "target": "agent2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := helper.c.WaitFor(ctx, "call_offered", nil); err != nil {
		t.Fatal(err)
	}
	if err := helper.c.Request(ctx, "accept", map[string]string{"call_id": id}); err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithTimeout(ctx, 8*time.Second)
	defer stop()
	waitPictures(t, pctx, helper, 1)
}
