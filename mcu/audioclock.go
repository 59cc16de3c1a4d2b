package mcu

import (
	"sync/atomic"
	"time"

	"github.com/contactcenter/vcc/media/audio"
)

const (
	// speechRMS is the level below which a party's frame counts as silence (about -50 dBFS): it is
	// left out of the mix rather than adding its room noise to everyone else's.
	speechRMS = 100
	// hangTicks keeps a party in the mix for 300 ms after it last spoke, so the soft ends of words
	// are not cut off.
	hangTicks = 15
)

// audioStats counts the audio clock's work; written by the clock, read by Stats.
type audioStats struct {
	ticks, mixes, encodes, shared atomic.Uint64
}

// audioClock mixes every 20 ms: each speaking party's voice into one sum, then each listener's sum
// minus its own voice, encoded for it alone. Listeners who are not speaking all hear the same thing,
// the whole sum, so it is encoded once and the packet sent to each of them (as conference bridges
// have long done): with one person talking, a room encodes twice however many listen. A tick in
// which nobody speaks encodes nothing.
func (r *Room) audioClock() {
	defer close(r.audioDone)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	running := true
	shared, err := audio.NewOpusEncoder(audio.OpusConfig{FEC: true})
	if err != nil {
		r.log.Error("audio mix disabled: no encoder", "err", err)
		<-r.quit
		return
	}
	var sharedBuf []byte
	var ts uint32
	for {
		// The clock sleeps while nobody in the room sends audio: an idle room costs no wake-ups.
		if !hasVoice(r.voices.Load()) {
			if running {
				tick.Stop()
				running = false
			}
			select {
			case <-r.quit:
				return
			case <-r.audioWake:
				continue
			}
		}
		if !running {
			tick.Reset(20 * time.Millisecond)
			running = true
		}
		select {
		case <-r.quit:
			return
		case <-r.audioWake:
			continue
		case now := <-tick.C:
			// Timestamps follow the wall clock in whole frames, so that a pause (nobody sending)
			// shows the receivers its true length.
			n := uint32((now.Sub(r.start) + 10*time.Millisecond) / (20 * time.Millisecond))
			if next := n * frameSamples; next > ts {
				ts = next
			} else {
				ts += frameSamples
			}
		}
		r.audio.ticks.Add(1)
		vs := r.voices.Load()
		speaking := 0
		var loudest *voice
		var loudestE int64
		for _, v := range vs.list {
			v.speaking = false
			if v.in == nil {
				continue
			}
			// Held parties are drained too, so that on resume they are heard now, not 200 ms ago.
			pcm := v.in.pull()
			if pcm == nil || !v.heard {
				continue
			}
			e := energy(pcm)
			if e > int64(len(pcm))*speechRMS*speechRMS {
				v.hang = hangTicks
				if e > loudestE {
					loudest, loudestE = v, e
				}
			} else if v.hang > 0 {
				v.hang--
			}
			if v.hang > 0 {
				_ = v.input.Write(pcm)
				v.speaking = true
				speaking++
			}
		}
		r.noteSpeaker(vs, loudest)
		if speaking == 0 {
			continue
		}
		r.audio.mixes.Add(1)
		sharedReady := false
		r.mixer.Mix(func(id string, mixMinus []int16) {
			v := vs.byID[id]
			if v == nil {
				return
			}
			v.out.writePCM(mixMinus) // a phone leg takes the mix as it is
			if !v.out.watched() {
				return
			}
			var pkt []byte
			if v.speaking {
				var err error
				if v.buf, err = v.enc.Encode(mixMinus, v.buf[:0]); err != nil {
					return
				}
				r.audio.encodes.Add(1)
				pkt = v.buf
			} else {
				if !sharedReady {
					var err error
					if sharedBuf, err = shared.Encode(mixMinus, sharedBuf[:0]); err != nil {
						return
					}
					r.audio.encodes.Add(1)
					sharedReady = true
				}
				r.audio.shared.Add(1)
				pkt = sharedBuf
			}
			if len(pkt) == 0 {
				return
			}
			v.hdr.Timestamp = ts
			v.hdr.SequenceNumber++
			v.out.fan.Write(&v.hdr, pkt)
		})
	}
}

// energy is a frame's sum of squares.
func energy(pcm []int16) int64 {
	var sum int64
	for _, s := range pcm {
		sum += int64(s) * int64(s)
	}
	return sum
}

// noteSpeaker keeps the active speaker: whoever holds the floor keeps it while still speaking
// (within the hangover), so that the border does not flicker between two people talking at once;
// when they stop, the loudest speaker now takes it. The room is woken to redraw when it changes.
func (r *Room) noteSpeaker(vs *voices, loudest *voice) {
	cur := r.speaker.Load()
	if cur != nil {
		if v := vs.byID[*cur]; v != nil && v.speaking {
			return
		}
	}
	var next *string
	if loudest != nil {
		id := loudest.id
		next = &id
	}
	if (cur == nil) != (next == nil) || (cur != nil && *cur != *next) {
		r.speaker.Store(next)
		r.wake()
	}
}

// activeSpeaker is the party holding the floor, "" for none.
func (r *Room) activeSpeaker() string {
	if p := r.speaker.Load(); p != nil {
		return *p
	}
	return ""
}

func hasVoice(vs *voices) bool {
	for _, v := range vs.list {
		if v.in != nil {
			return true
		}
	}
	return false
}
