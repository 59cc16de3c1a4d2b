package record

import (
	"bufio"
	"encoding/binary"
	"errors"
	"os"
	"sync"

	"github.com/contactcenter/vcc/media/vp8"
)

// output is the file under the container library. It buffers (the library issues a write per
// element) and never reports an error to the library: after a failed write the library's muxer
// goroutine would exit, and the next block handed to it would block forever. It keeps the first
// error for Close instead, and discards everything after it.
type output struct {
	mu     sync.Mutex // the run goroutine and the library's muxer goroutine both write
	f      *os.File
	buf    *bufio.Writer
	err    error
	closed bool
}

func newOutput(f *os.File) *output {
	return &output{f: f, buf: bufio.NewWriterSize(f, 64<<10)}
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil && !o.closed {
		if _, err := o.buf.Write(p); err != nil {
			o.err = err
		}
	}
	return len(p), nil
}

// WriteAt lets the library fill in the seek index and the duration at Close.
func (o *output) WriteAt(p []byte, off int64) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil && !o.closed {
		if err := o.buf.Flush(); err != nil {
			o.err = err
		} else if _, err := o.f.WriteAt(p, off); err != nil {
			o.err = err
		}
	}
	return len(p), nil
}

// Close flushes, syncs (a recording is a record: it should survive a crash right after the call)
// and closes the file. Idempotent.
func (o *output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return o.err
	}
	o.closed = true
	var err error
	if o.err == nil {
		err = errors.Join(o.buf.Flush(), o.f.Sync())
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if o.err == nil {
		o.err = err
	}
	return o.err
}

// fail records err unless an earlier one is recorded.
func (o *output) fail(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil {
		o.err = err
	}
}

// Err is the first error, if any.
func (o *output) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// vp8Size reads the size from a VP8 keyframe header (RFC 6386 section 9.1: after the 3-byte frame
// tag and the start code, two little-endian 16-bit fields whose low 14 bits are the width and the
// height; the top two bits are a scaling hint).
func vp8Size(frame []byte) (width, height int, ok bool) {
	if !vp8.IsKeyframe(frame) {
		return 0, 0, false
	}
	width = int(binary.LittleEndian.Uint16(frame[6:8]) & 0x3fff)
	height = int(binary.LittleEndian.Uint16(frame[8:10]) & 0x3fff)
	return width, height, width > 0 && height > 0
}

// opusHead is the Opus identification header (RFC 7845 section 5.1) WebM carries as the track's
// CodecPrivate. Pre-skip is 0: the timecodes place each packet at the time it was live, and a
// pre-skip would shift the audio against the video.
func opusHead(channels int) []byte {
	h := make([]byte, 0, 19)
	h = append(h, "OpusHead"...)
	h = append(h, 1, byte(channels), 0, 0) // version, channels, pre-skip
	h = binary.LittleEndian.AppendUint32(h, 48000)
	return append(h, 0, 0, 0) // output gain, mapping family 0 (mono or stereo)
}
