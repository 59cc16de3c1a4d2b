package app

import (
	"log/slog"
	"path/filepath"
	"strconv"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/record"
)

// recorders writes each recording of a call under dir/<call>/<part>/: a forwarding room's parties
// each into their own file, untranscoded; the MCU's composite and mix into one.
func recorders(dir string, log *slog.Logger) call.RecorderFactory {
	return func(id call.CallID, media call.Mode, part int) (call.Recorder, error) {
		mode := record.PerParty
		if media == call.ModeMCU {
			mode = record.Mixed
		}
		callDir := filepath.Join(dir, string(id))
		sub := strconv.Itoa(part)
		ep, err := record.NewEndpoint(record.Config{ID: call.RecorderID, Dir: filepath.Join(callDir, sub), Mode: mode, Width: 1280, Height: 720},
			record.WithLogger(log.With("call", id)))
		if err != nil {
			return nil, err
		}
		return relative{ep, callDir}, nil
	}
}

// relative names a recorder's files relative to its call's directory, as the REST API serves them.
type relative struct {
	*record.Endpoint
	base string
}

func (r relative) Files() []string {
	var out []string
	for _, f := range r.Endpoint.Files() {
		if rel, err := filepath.Rel(r.base, f); err == nil {
			out = append(out, filepath.ToSlash(rel))
		}
	}
	return out
}
