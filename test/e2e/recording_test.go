package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"

	"github.com/contactcenter/vcc/client"
	"github.com/contactcenter/vcc/cmd/app"
)

// get fetches path with user's demo token and returns the status and body.
func get(t *testing.T, srv *app.Server, user, path string) (int, []byte) {
	t.Helper()
	tok, err := client.DemoToken(context.Background(), baseURL(srv), user)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, baseURL(srv)+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

type recording struct {
	File  string   `json:"file"`
	Media string   `json:"media"`
	Size  int64    `json:"size"`
	URL   string   `json:"url"`
	Tags  []string `json:"tags"`
}

// recordings lists a call's recordings as an agent.
func recordings(t *testing.T, srv *app.Server, id string) []recording {
	t.Helper()
	code, body := get(t, srv, "user=agent1", "/api/calls/"+id+"/recordings")
	if code != http.StatusOK {
		t.Fatalf("recordings: HTTP %d %s", code, body)
	}
	var out struct{ Recordings []recording }
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Recordings
}

// webmTracks downloads a recording as a supervisor and returns, per codec, the track's video width
// (0 for audio) and the number of blocks written for it.
func webmTracks(t *testing.T, srv *app.Server, r recording) map[string][2]int {
	t.Helper()
	code, body := get(t, srv, "user=super1", r.URL)
	if code != http.StatusOK || int64(len(body)) != r.Size {
		t.Fatalf("download %s: HTTP %d, %d bytes, listed %d", r.URL, code, len(body), r.Size)
	}
	var f struct {
		Header  webm.EBMLHeader `ebml:"EBML"`
		Segment webm.Segment    `ebml:"Segment"`
	}
	if err := ebml.Unmarshal(bytes.NewReader(body), &f); err != nil {
		t.Fatalf("%s is not WebM: %v", r.File, err)
	}
	out := map[string][2]int{}
	byNum := map[uint64]string{}
	for _, e := range f.Segment.Tracks.TrackEntry {
		byNum[e.TrackNumber] = e.CodecID
		w := 0
		if e.Video != nil {
			w = int(e.Video.PixelWidth)
		}
		out[e.CodecID] = [2]int{w, 0}
	}
	for _, c := range f.Segment.Cluster {
		for _, b := range c.SimpleBlock {
			v := out[byNum[b.TrackNumber]]
			v[1]++
			out[byNum[b.TrackNumber]] = v
		}
	}
	return out
}

// waitPictures waits until p has decoded n more pictures.
func waitPictures(t *testing.T, ctx context.Context, p *party, n int) {
	t.Helper()
	p.mu.Lock()
	want := p.pics + n
	p.mu.Unlock()
	for {
		p.mu.Lock()
		got := p.pics
		p.mu.Unlock()
		if got >= want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %d pictures: got %d", want, got)
		case <-p.frame:
		}
	}
}

// TestRecordingMCUAndSFU (R26): an MCU call is recorded as one WebM file of the composite and the
// full mix; an SFU call as one untranscoded WebM file per party. Both are listed with the call's
// tags and downloadable by staff only.
func TestRecordingMCUAndSFU(t *testing.T) { // R26
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := dial(t, ctx, srv, "user=admin1")

	for _, mode := range []string{"mcu", "sfu"} {
		if err := admin.Request(ctx, "video_mode", map[string]string{"mode": mode}); err != nil {
			t.Fatal(err)
		}
		cust := newParty(t, ctx, srv, "role=customer&name=Rita-"+mode, 0)
		agent := newParty(t, ctx, srv, "user=agent1", 1)
		id := connectCall(t, ctx, cust.c, agent.c)
		waitPictures(t, ctx, agent, 3)
		if err := agent.c.Request(ctx, "record", map[string]bool{"on": true}); err != nil {
			t.Fatal(err)
		}
		if err := agent.c.Request(ctx, "tag", map[string]string{"text": "refund promised"}); err != nil {
			t.Fatal(err)
		}
		// About 2 s of media into the recording, counted in what the agent receives: 100 packets
		// (20 ms each) of the customer's voice and 20 pictures (the composite's frame rate is not the
		// senders', so pictures alone do not say how much audio went by).
		waitHeard(t, ctx, "agent hears the customer while recording", agent, cust, 100)
		waitPictures(t, ctx, agent, 20)
		if err := agent.c.Request(ctx, "hangup", struct{}{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cust.c.WaitFor(ctx, "call_ended", nil); err != nil {
			t.Fatal(err)
		}

		recs := recordings(t, srv, id)
		want := map[string]int{"mcu": 1, "sfu": 2}[mode]
		if len(recs) != want {
			t.Fatalf("%s call: %d recordings %+v, want %d", mode, len(recs), recs, want)
		}
		for _, r := range recs {
			if r.Media != mode || len(r.Tags) != 1 || r.Tags[0] != "refund promised" {
				t.Errorf("%s recording listed as %+v", mode, r)
			}
			tr := webmTracks(t, srv, r)
			width := map[string]int{"mcu": 1280, "sfu": 160}[mode]
			if v := tr["V_VP8"]; v[0] != width || v[1] < 10 {
				t.Errorf("%s %s: video track %v (width, blocks), want width %d and >= 10 frames", mode, r.File, v, width)
			}
			if a := tr["A_OPUS"]; a[1] < 50 {
				t.Errorf("%s %s: audio track has %d blocks, want >= 50 (1 s)", mode, r.File, a[1])
			}
		}
		// R26: recordings are for staff; a customer is refused.
		if code, _ := get(t, srv, "role=customer&name=Nosy", recs[0].URL); code != http.StatusForbidden {
			t.Errorf("a customer downloading a recording got HTTP %d, want 403", code)
		}
		if code, _ := get(t, srv, "user=agent1", "/api/calls/"+id+"/recordings/../../vcc.db"); code != http.StatusNotFound {
			t.Errorf("a path outside the record got HTTP %d, want 404", code)
		}
		agent.c.Close()
		cust.c.Close()
	}
}
