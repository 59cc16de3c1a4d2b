package gateway

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/media"
)

// rtpLog is what a fake phone's RTP port received.
type rtpLog struct {
	mu   sync.Mutex
	pkts []rtp.Packet
}

func (r *rtpLog) add(h *rtp.Header, p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pkts = append(r.pkts, rtp.Packet{Header: *h, Payload: append([]byte(nil), p...)})
}

func (r *rtpLog) snapshot() []rtp.Packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rtp.Packet(nil), r.pkts...)
}

// decoded runs the gateway's own DTMF decoder over the telephone-events received.
func (r *rtpLog) decoded(pt uint8) string {
	var d dtmfDecoder
	var got []rune
	for _, p := range r.snapshot() {
		if p.PayloadType == pt {
			got = append(got, d.push(p.Timestamp, p.Payload)...)
		}
	}
	return string(got)
}

// callIn places a call from a fake phone offering sdp (with %d for its RTP port) and returns the
// leg and what the phone's RTP port receives.
func callIn(t *testing.T, sdp string) (*Leg, *rtpLog) {
	t.Helper()
	leg, media8 := phoneCall(t, sdp)
	log := &rtpLog{}
	go readRTP(media8, log.add)
	return leg, log
}

const sdpWithEvents = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio %d RTP/AVP 0 96\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\na=sendrecv\r\n"

// Digits sent to a phone arrive as RFC 4733 events in the payload type it offered: each digit
// once, in order, a start packet with the marker bit, growing durations, three end packets with
// the event's timestamp; the audio pauses while a digit plays and shares the SSRC and sequence
// numbers with the events.
func TestSendDigits(t *testing.T) {
	leg, log := callIn(t, sdpWithEvents)
	voice := newOpusSource("agent-mic", media.Audio)
	if err := leg.Attach(voice); err != nil {
		t.Fatal(err)
	}
	feeding := feedOpus(t, voice, 1180)
	defer close(feeding)
	eventually(t, "audio at the phone", func() bool { return len(log.snapshot()) >= 5 })

	if err := leg.SendDigits("12x"); !errors.Is(err, ErrBadDigit) {
		t.Fatalf("a bad digit: %v", err)
	}
	// Two goroutines at once: each call's digits stay together and in order.
	var wg sync.WaitGroup
	for _, s := range []string{"159#", "*Ad0"} {
		wg.Go(func() {
			if err := leg.SendDigits(s); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// 8 digits at 160 ms each, then audio again.
	eventually(t, "8 digits", func() bool { return len(log.decoded(96)) == 8 })
	time.Sleep(200 * time.Millisecond)
	if got := log.decoded(96); got != "159#*AD0" && got != "*AD0159#" {
		t.Fatalf("the phone decoded %q", got)
	}

	pkts := log.snapshot()
	ssrc := pkts[0].SSRC
	var (
		events     int // packets of the current event
		ends       int
		inEvent    bool
		evTS       uint32
		lastDur    uint16
		audioAfter int
		digitsSeen int
	)
	for i, p := range pkts {
		if p.SSRC != ssrc {
			t.Fatalf("packet %d: SSRC %x, want %x", i, p.SSRC, ssrc)
		}
		if i > 0 && p.SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Fatalf("packet %d: sequence %d after %d", i, p.SequenceNumber, pkts[i-1].SequenceNumber)
		}
		switch p.PayloadType {
		case 96:
			dur := uint16(p.Payload[2])<<8 | uint16(p.Payload[3])
			end := p.Payload[1]&0x80 != 0
			if !inEvent || p.Timestamp != evTS {
				if inEvent && ends != 3 {
					t.Fatalf("event at %d: %d end packets, want 3", evTS, ends)
				}
				if !p.Marker || end {
					t.Fatalf("packet %d: an event starts without the marker bit, or ends at once", i)
				}
				if inEvent && int32(p.Timestamp-evTS) < int32(digitTicks*frame8) {
					t.Fatalf("event at %d starts %d samples after the previous", p.Timestamp, p.Timestamp-evTS)
				}
				inEvent, evTS, events, ends, lastDur = true, p.Timestamp, 0, 0, 0
				digitsSeen++
			} else if p.Marker {
				t.Fatalf("packet %d: marker bit within an event", i)
			}
			events++
			if dur < lastDur || (!end && dur == lastDur) {
				t.Fatalf("packet %d: duration %d after %d", i, dur, lastDur)
			}
			lastDur = dur
			if end {
				ends++
				if dur != digitTicks*frame8 {
					t.Fatalf("end packet with duration %d, want %d (100 ms)", dur, digitTicks*frame8)
				}
			}
		case 0:
			if inEvent && ends < 3 {
				t.Fatalf("packet %d: audio while the digit at %d plays", i, evTS)
			}
			if inEvent && digitsSeen == 8 {
				audioAfter++
				if int32(p.Timestamp-evTS) < int32(digitTicks*frame8) {
					t.Fatalf("audio at %d within the last digit's tone at %d", p.Timestamp, evTS)
				}
			}
		}
	}
	if digitsSeen != 8 || ends != 3 || audioAfter == 0 {
		t.Fatalf("%d digits, last with %d end packets, %d audio packets after", digitsSeen, ends, audioAfter)
	}
}

// A phone that offered no telephone-event gets no digits.
func TestSendDigitsNoEvents(t *testing.T) {
	leg, log := callIn(t, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")
	if err := leg.SendDigits("1"); !errors.Is(err, ErrNoDTMF) {
		t.Fatalf("got %v, want ErrNoDTMF", err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(log.snapshot()); n != 0 {
		t.Fatalf("the phone got %d packets", n)
	}
	_ = leg.Close(nil)
	if err := leg.SendDigits(""); err == nil {
		t.Fatal("SendDigits on a closed leg")
	}
}
