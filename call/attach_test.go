package call

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/contactcenter/vcc/media"
)

type namedSource struct {
	media.Source
	id string
}

func (s namedSource) ID() string { return s.id }

// A refusal the endpoint says is expected (a phone offered video) is not a warning; any other is.
func TestLogRefusedLevels(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	LogRefused(log, "tel:100", map[media.Source]error{
		namedSource{id: "composite"}: fmt.Errorf("phone: video (%w)", ErrMediaUnsupported),
		namedSource{id: "voice"}:     fmt.Errorf("track closed"),
	})
	out := buf.String()
	if !strings.Contains(out, "level=DEBUG msg=\"attach failed\" party=tel:100 source=composite") ||
		!strings.Contains(out, "level=WARN msg=\"attach failed\" party=tel:100 source=voice") {
		t.Fatalf("log:\n%s", out)
	}
}
