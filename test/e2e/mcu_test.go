package e2e

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/contactcenter/vcc/mcu/compose"
)

// tileCentre is the centre of tile i of a layout on the server's 1280x720 composite, as fractions.
func tileCentre(layout string, n, big, i int) (float64, float64) {
	r := compose.Tiles(layout, n, big, 1280, 720)[i]
	return float64(r.X+r.W/2) / 1280, float64(r.Y+r.H/2) / 720
}

// seesTiles waits until p's composite shows cols in the tiles of layout, in order.
func seesTiles(t *testing.T, ctx context.Context, p *party, who, layout string, big int, cols ...rgb) {
	t.Helper()
	for i, c := range cols {
		x, y := tileCentre(layout, len(cols), big, i)
		p.waitPicture(t, ctx, who+" tile "+string(rune('0'+i))+" of "+layout, x, y, c)
	}
}

// hearsOnly waits until p has heard each of others 25 more times, and checks that its own voice
// did not come back meanwhile (mix-minus).
func hearsOnly(t *testing.T, ctx context.Context, who string, p *party, others ...*party) {
	t.Helper()
	own := p.heard[p.voice].Load()
	for _, o := range others {
		waitCount(t, ctx, who+" hears "+tonesName(o), p.heardFrom(o), 25)
	}
	if echo := p.heard[p.voice].Load() - own; echo > 2 {
		t.Errorf("%s heard its own voice back in %d packets", who, echo)
	}
}

func tonesName(p *party) string { return "the party with tone " + strconv.Itoa(int(tones[p.voice])) }

// TestMCUAutoMoveLayoutsAndVideoRules walks the MCU's life in one call with Go clients sending real
// VP8 and Opus: auto mode starts 1:1 on the SFU (R5), the helper's arrival moves the live call to
// the MCU with no new connection, everyone sees the equal composite and hears the others but not
// themselves, one viewer's layout is its own (R21), a screen share takes the large tile (R22) and is
// stopped when a party turns video off (R20), after which layout changes and shares are refused
// (R19, R21) and the party's tile is its name plate.
func TestMCUAutoMoveLayoutsAndVideoRules(t *testing.T) { // R5 R19 R20 R21 R22
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	admin := dial(t, ctx, srv, "user=admin1")
	if err := admin.Request(ctx, "video_mode", map[string]string{"mode": "auto"}); err != nil {
		t.Fatal(err)
	}
	cust := newParty(t, ctx, srv, "role=customer&name=Wanda", 0) // red, 520 Hz
	a := newParty(t, ctx, srv, "user=agent1", 1)                 // green, 780 Hz
	b := newParty(t, ctx, srv, "user=agent2", 2)                 // blue, 1180 Hz
	id := connectCall(t, ctx, cust.c, a.c)

	// On the SFU the customer receives the agent's own 160x120 camera.
	cust.waitPicture(t, ctx, "customer sees the agent's camera", 0.5, 0.5, colours[1])
	if _, w, _ := cust.colourAt(0.5, 0.5); w != 160 {
		t.Fatalf("before the move the customer gets a %d-wide picture, want the agent's 160", w)
	}
	pcs := []*webrtc.PeerConnection{cust.c.PC(), a.c.PC()}

	if err := b.c.Request(ctx, "agent_state", map[string]string{"state": "available"}); err != nil {
		t.Fatal(err)
	}
	if err := a.c.Request(ctx, "consult", map[string]string{"kind": "agent", "target": "agent2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.c.WaitFor(ctx, "call_offered", nil); err != nil {
		t.Fatal(err)
	}
	if err := b.c.Request(ctx, "accept", map[string]string{"call_id": id}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, a.c, "the call moved to the MCU", func(st map[string]any) bool { return st["media"] == "mcu" })
	if err := a.c.Request(ctx, "conference", struct{}{}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, cust.c, "customer in the conference", func(st map[string]any) bool { return st["conference"] == true })

	// R21 equal: tiles in join order (customer, agent, helper) for every viewer.
	for _, v := range []struct {
		who string
		p   *party
	}{{"customer", cust}, {"agent", a}, {"helper", b}} {
		seesTiles(t, ctx, v.p, v.who, compose.LayoutEqual, -1, colours[0], colours[1], colours[2])
	}
	if cust.c.PC() != pcs[0] || a.c.PC() != pcs[1] {
		t.Fatal("R5: the move replaced a PeerConnection")
	}
	hearsOnly(t, ctx, "customer", cust, a, b)
	hearsOnly(t, ctx, "agent", a, cust, b)
	hearsOnly(t, ctx, "helper", b, cust, a)

	// R21: the helper maximizes the customer; the others keep the equal picture.
	if err := b.c.Request(ctx, "layout", map[string]string{"layout": "max_customer"}); err != nil {
		t.Fatal(err)
	}
	seesTiles(t, ctx, b, "helper", compose.LayoutMaxCustomer, 0, colours[0], colours[1], colours[2])
	seesTiles(t, ctx, a, "agent", compose.LayoutEqual, -1, colours[0], colours[1], colours[2])

	// R22: the agent shares a screen (yellow): the large tile for everyone, cameras small.
	screen, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "screen", "screen-a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.c.AddTrackLive(screen); err != nil {
		t.Fatal(err)
	}
	go sendMedia(t, ctx, colours[3], 0, screen, nil)
	if err := a.c.Request(ctx, "screenshare", map[string]bool{"on": true}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []*party{cust, a, b} {
		seesTiles(t, ctx, v, "viewer", compose.LayoutScreenShare, 0, colours[3], colours[0], colours[1], colours[2])
	}

	// R20: the customer turns video off; the share stops and everyone is told why.
	if err := cust.c.Request(ctx, "media_state", map[string]bool{"audio": true, "video": false}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, a.c, "share stopped by R20", func(st map[string]any) bool {
		note, _ := st["note"].(string)
		return (st["screen"] == nil || st["screen"] == "") && len(note) > 0
	})
	// R21: the customer's tile is a plate now (no red anywhere in its place) ...
	x, y := tileCentre(compose.LayoutEqual, 3, -1, 0)
	for {
		got, _, _ := a.colourAt(x, y)
		if !got.near(colours[0]) && !got.near(colours[3]) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the customer's tile still shows %v after video off", got)
		case <-a.frame:
		}
	}
	// ... and changing the layout or sharing is refused with the rule's code (R19, R21).
	expectCode(t, a.c.Request(ctx, "layout", map[string]string{"layout": "max_agent"}), "layout_needs_all_video")
	expectCode(t, a.c.Request(ctx, "screenshare", map[string]bool{"on": true}), "screenshare_needs_all_video")

	// The call record shows both media modes.
	recs := timeline(t, srv, id)
	if !slices.ContainsFunc(recs, func(r rec) bool { return r.Type == "mode" && r.Data["mode"] == "mcu" }) {
		t.Errorf("no move to the MCU in the timeline:\n%s", dump(recs))
	}
}
