package record

import (
	"errors"
	"fmt"

	"github.com/contactcenter/vcc/media"
)

var (
	// ErrConfig is returned for a Writer or Endpoint configuration that cannot work: no tracks, a
	// track whose kind and codec disagree, a bad size, an empty directory.
	ErrConfig = errors.New("record: invalid configuration")
	// ErrCodec is returned when a source's codec cannot go into WebM without transcoding (WebM
	// holds VP8/VP9/AV1 and Opus/Vorbis; this package records VP8 and Opus, what the rooms carry).
	ErrCodec = errors.New("record: codec not recordable")
	// ErrClosed is returned by a Writer, a sink or an Endpoint used after Close. It wraps
	// media.ErrClosed so the media layer's checks recognise it.
	ErrClosed = fmt.Errorf("record: %w", media.ErrClosed)
	// ErrDropped is returned by a sink for a packet it discarded: empty, late, a timestamp that
	// disagrees with the wall clock, a full queue, a track left out of the file. It wraps
	// media.ErrDropped so fan-outs count it as a failed delivery.
	ErrDropped = fmt.Errorf("record: %w", media.ErrDropped)
)
