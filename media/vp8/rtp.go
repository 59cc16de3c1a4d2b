package vp8

import (
	"fmt"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// MTU is the largest RTP packet (header included) the packetizer produces: 1200 bytes leaves room
// for IP, UDP, SRTP, TURN and tunnel overheads under a 1280-1500 byte path MTU, the figure
// browsers use.
const MTU = 1200

// rtpHeaderSize is the fixed RTP header without CSRCs or extensions; header extensions
// (abs-send-time, transport-cc) the caller adds must fit in the slack below MTU.
const rtpHeaderSize = 12

// Packetizer splits compressed VP8 frames into RTP payloads (RFC 7741) with a 15-bit picture ID,
// which receivers use to tell a lost frame from a reordered one. Not safe for concurrent use.
type Packetizer struct {
	p   codecs.VP8Payloader
	mtu uint16
}

// NewPacketizer returns a packetizer whose payloads fit, with a 12-byte RTP header, in mtu bytes
// (MTU when mtu is 0).
func NewPacketizer(mtu int) (*Packetizer, error) {
	if mtu == 0 {
		mtu = MTU
	}
	if mtu <= rtpHeaderSize+4 || mtu > 65535 {
		return nil, fmt.Errorf("%w: mtu %d", ErrConfig, mtu)
	}
	return &Packetizer{p: codecs.VP8Payloader{EnablePictureID: true}, mtu: uint16(mtu - rtpHeaderSize)}, nil
}

// Packetize returns the RTP payloads of one frame, in order; the caller sets the marker bit on
// the last one and gives them all the frame's timestamp.
func (p *Packetizer) Packetize(frame []byte) [][]byte {
	return p.p.Payload(p.mtu, frame)
}

// Result is what Depacketizer.Push produced.
type Result struct {
	// Frame is a whole VP8 frame, nil when this packet did not complete one. It aliases the
	// depacketizer's buffer and stays valid until the next Push.
	Frame     []byte
	Keyframe  bool
	Timestamp uint32
	// NeedKeyframe is true while the depacketizer waits for a keyframe: from the start, and after
	// a sequence gap (a lost packet) until one arrives. The caller asks the sender for a keyframe
	// (PLI), rate limited; inter frames are dropped meanwhile, since they would decode as damage.
	NeedKeyframe bool
}

// Depacketizer assembles RTP VP8 payloads into whole frames by the start-of-partition bit, the
// timestamp and the marker bit, and detects loss by sequence gaps. It expects packets in order (a
// jitter buffer upstream reorders); a late packet is dropped and the gap it left counts as loss.
// It copies payloads, so callers may reuse their packet buffers. Not safe for concurrent use.
type Depacketizer struct {
	pkt     codecs.VP8Packet
	buf     []byte
	haveSeq bool
	lastSeq uint16
	inFrame bool
	ts      uint32
	needKey bool
}

// NewDepacketizer returns a depacketizer that waits for a keyframe first.
func NewDepacketizer() (*Depacketizer, error) {
	return &Depacketizer{needKey: true, buf: make([]byte, 0, 64<<10)}, nil
}

// NeedKeyframe reports whether the depacketizer waits for a keyframe.
func (d *Depacketizer) NeedKeyframe() bool { return d.needKey }

// Push takes one RTP packet; see Result. The error reports a payload that is not VP8 (the packet
// is dropped and the frame it belonged to is lost).
func (d *Depacketizer) Push(h *rtp.Header, payload []byte) (Result, error) {
	if d.haveSeq {
		switch diff := int16(h.SequenceNumber - d.lastSeq); {
		case diff <= 0:
			return d.result(), nil // duplicate or late: its frame was already given up or delivered
		case diff > 1:
			d.lose()
		}
	}
	d.haveSeq, d.lastSeq = true, h.SequenceNumber
	vp8, err := d.pkt.Unmarshal(payload)
	if err != nil || len(vp8) == 0 {
		d.lose()
		if err == nil {
			err = fmt.Errorf("empty VP8 payload")
		}
		return d.result(), fmt.Errorf("%w: %w", ErrPayload, err)
	}
	if d.pkt.S == 1 && d.pkt.PID == 0 {
		if d.inFrame {
			d.lose() // a new frame began before the last one's marker: its tail is missing
		}
		d.inFrame, d.ts, d.buf = true, h.Timestamp, d.buf[:0]
	} else if !d.inFrame || h.Timestamp != d.ts {
		d.inFrame = false
		return d.result(), nil // the middle of a frame whose start was lost (already counted)
	}
	d.buf = append(d.buf, vp8...)
	if !h.Marker {
		return d.result(), nil
	}
	d.inFrame = false
	key := IsKeyframe(d.buf)
	if key {
		d.needKey = false
	}
	if d.needKey {
		return d.result(), nil
	}
	return Result{Frame: d.buf, Keyframe: key, Timestamp: d.ts}, nil
}

func (d *Depacketizer) lose() {
	d.inFrame = false
	d.buf = d.buf[:0]
	d.needKey = true
}

func (d *Depacketizer) result() Result { return Result{NeedKeyframe: d.needKey} }
