package mcu

import (
	"cmp"
	"slices"
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
	// maxMixed caps the voices in the mix at once, as conference bridges do: past three people
	// talking together nobody is understood anyway, each more voice adds its room noise, and every
	// voice in the mix costs an Opus encoding of its own mix-minus. Those left out hear the whole
	// mix, one shared encoding.
	maxMixed = 3
	// keepFactor is how much louder (in energy, 3 dB) a voice must be than the quietest one in the
	// mix to take its place, so that two people at similar levels do not swap every 20 ms.
	keepFactor = 2
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
	var cands []*voice
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
		cands = cands[:0]
		for _, v := range vs.list {
			v.pcm = nil
			if v.in == nil {
				continue
			}
			// Held parties are drained too, so that on resume they are heard now, not 200 ms ago.
			pcm := v.in.pull()
			if pcm == nil || !v.heard {
				v.level -= v.level / 8
				continue
			}
			e := energy(pcm) / int64(len(pcm))
			v.level += (e - v.level) / 8 // about 160 ms
			if e > speechRMS*speechRMS {
				v.hang = hangTicks
			} else if v.hang > 0 {
				v.hang--
			}
			if v.hang > 0 {
				v.pcm = pcm
				cands = append(cands, v)
			}
		}
		mixed := pickVoices(cands)
		var loudest *voice
		for _, v := range vs.list {
			v.speaking = false
		}
		for _, v := range mixed {
			_ = v.input.Write(v.pcm)
			v.speaking = true
			if loudest == nil || v.level > loudest.level {
				loudest = v
			}
		}
		r.noteSpeaker(vs, loudest)
		if len(mixed) == 0 {
			continue
		}
		r.audio.mixes.Add(1)
		alone := len(mixed) == 1
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
				// The only voice in the mix hears digital silence (the sum minus itself). After one
				// encoded frame of it (so the decoder fades out cleanly) it is sent nothing until
				// there is something to hear, as Opus DTX does: the timestamp jump tells the
				// receiver it was a pause, not loss. With one person talking, a tick encodes once.
				if alone {
					if v.paused {
						return
					}
					v.paused = true
				} else {
					v.paused = false
				}
				var err error
				if v.buf, err = v.enc.Encode(mixMinus, v.buf[:0]); err != nil {
					return
				}
				r.audio.encodes.Add(1)
				pkt = v.buf
			} else {
				v.paused = false
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
			v.sent.Add(1)
			v.out.fan.Write(&v.hdr, pkt)
		})
	}
}

// pickVoices orders the talkers in cands for the mix and returns the first maxMixed: the loudest,
// except that a voice already in the mix keeps its place against one less than keepFactor louder.
// cands carries last tick's choice in its speaking flags.
func pickVoices(cands []*voice) []*voice {
	if len(cands) <= maxMixed {
		return cands
	}
	rank := func(v *voice) int64 {
		if v.speaking {
			return v.level * keepFactor
		}
		return v.level
	}
	slices.SortStableFunc(cands, func(a, b *voice) int { return cmp.Compare(rank(b), rank(a)) })
	return cands[:maxMixed]
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
