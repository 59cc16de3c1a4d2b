package call

import (
	"context"
	"errors"
	"log/slog"

	"github.com/contactcenter/vcc/media"
)

// ErrMediaUnsupported is wrapped by an Endpoint's Attach error when the endpoint cannot receive
// that kind of source at all (a phone offered the MCU's composite video). Rooms offer every party
// the same routing, so this refusal is expected: LogRefused keeps it out of the warnings.
var ErrMediaUnsupported = errors.New("call: the endpoint cannot receive this media")

// LogRefused logs the sources Reattach says party id refused: expected ones (ErrMediaUnsupported)
// at debug level, others as warnings.
func LogRefused(log *slog.Logger, id PartyID, refused map[media.Source]error) {
	for src, err := range refused {
		level := slog.LevelWarn
		if errors.Is(err, ErrMediaUnsupported) {
			level = slog.LevelDebug
		}
		log.Log(context.Background(), level, "attach failed", "party", id, "source", src.ID(), "err", err)
	}
}

// Reattach makes ep receive exactly want, given what it receives now (attached, updated in place),
// and returns the sources ep refused. It detaches first, so that a track freed by one source can
// carry its replacement without a renegotiation (a voice replaced by music on hold, a camera by a
// composite). Both media rooms use it.
func Reattach(ep Endpoint, attached map[media.Source]bool, want []media.Source) (added []media.Source, refused map[media.Source]error) {
	wanted := make(map[media.Source]bool, len(want))
	for _, src := range want {
		wanted[src] = true
	}
	for src := range attached {
		if !wanted[src] {
			ep.Detach(src)
			delete(attached, src)
		}
	}
	for _, src := range want {
		if attached[src] {
			continue
		}
		if err := ep.Attach(src); err != nil {
			if refused == nil {
				refused = map[media.Source]error{}
			}
			refused[src] = err
			continue
		}
		attached[src] = true
		added = append(added, src)
	}
	return added, refused
}
