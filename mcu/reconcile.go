package mcu

import (
	"strconv"
	"strings"

	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/media"
)

// reconcile brings everything in line with the members, their sources and the routing: decoders
// for what members send, one composite per distinct picture, each member attached to its picture
// and its mix (or to the music), and the audio clock's snapshot. It runs on the room goroutine.
func (r *Room) reconcile() {
	for _, id := range r.order {
		r.syncInputs(r.members[id])
	}
	heard := map[call.PartyID]bool{}
	recs := make(map[call.PartyID]call.Reception, len(r.members))
	for _, id := range r.order {
		rec := r.reception(id)
		recs[id] = rec
		for _, f := range rec.From {
			heard[f] = true
		}
	}

	used := map[*composite]bool{}
	for _, id := range r.order {
		m, rec := r.members[id], recs[id]
		m.view = nil
		if !rec.Music && len(rec.Picture.Tiles) > 0 {
			m.view = r.composite(rec.Picture)
		}
		if m.view != nil {
			used[m.view] = true
		}
		var want []media.Source
		switch {
		case rec.Music:
			if r.music != nil {
				want = append(want, r.music)
			}
		default:
			want = append(want, m.mix.out)
		}
		if m.view != nil {
			want = append(want, m.view.out)
		}
		r.attach(id, m, want)
	}
	for k, c := range r.comps {
		if !used[c] {
			c.close()
			delete(r.comps, k)
			continue
		}
		c.bind(r)
	}

	vs := &voices{byID: make(map[string]*voice, len(r.members))}
	for _, id := range r.order {
		m := r.members[id]
		// A fresh voice per snapshot: the audio clock may still be reading the previous one.
		v := &voice{id: string(id), in: m.voice, heard: heard[id], mixOut: m.mix}
		vs.list = append(vs.list, v)
		vs.byID[string(id)] = v
	}
	r.voices.Store(vs)
	select {
	case r.audioWake <- struct{}{}:
	default:
	}
}

// reception is what member id gets: its routing, or before the call applies one, everyone else
// heard and everyone seen in join order.
func (r *Room) reception(id call.PartyID) call.Reception {
	if r.routing != nil {
		return r.routing[id]
	}
	rec := call.Reception{Picture: call.Picture{Layout: call.LayoutEqual, Big: -1}}
	for _, p := range r.order {
		if p != id {
			rec.From = append(rec.From, p)
		}
		rec.Picture.Tiles = append(rec.Picture.Tiles, call.Tile{Party: p, Name: string(p), Video: r.members[p].ep.Caps().Video})
	}
	return rec
}

// composite returns the composite for pic, starting one for a picture nobody watched before.
func (r *Room) composite(pic call.Picture) *composite {
	key := pic.Key()
	if c, ok := r.comps[key]; ok {
		return c
	}
	r.nextOut++
	c, err := newComposite(r.outputID(), pic, r.cfg, r.comp, r)
	if err != nil {
		r.log.Error("starting a composite", "layout", pic.Layout, "err", err)
		return nil
	}
	r.comps[key] = c
	return c
}

func (r *Room) outputID() string {
	return "mcu-" + string(r.id) + "-" + strconv.Itoa(r.nextOut)
}

// attach makes m receive exactly want.
func (r *Room) attach(id call.PartyID, m *member, want []media.Source) {
	_, refused := call.Reattach(m.ep, m.attached, want)
	call.LogRefused(r.log, id, refused)
}

// syncInputs starts a decoder for each source m sends now (camera, screen, microphone) and stops
// those of sources that ended.
func (r *Room) syncInputs(m *member) {
	var cam, scr, mic media.Source
	for _, s := range m.ep.Sources() {
		switch {
		case s.Kind() == media.Audio && mic == nil:
			mic = s
		case s.Kind() == media.Video && s.Label() == "screen" && scr == nil:
			scr = s
		case s.Kind() == media.Video && s.Label() != "screen" && cam == nil:
			cam = s
		}
	}
	m.camera = r.syncVideo(m.camera, cam)
	m.screen = r.syncVideo(m.screen, scr)
	if m.voice != nil && (mic == nil || m.voice.src != mic) {
		m.voice.close()
		m.voice = nil
	}
	if m.voice == nil && mic != nil && isCodec(mic, "audio/opus") {
		in, err := newAudioIn(mic)
		if err != nil {
			r.log.Warn("audio input", "source", mic.ID(), "err", err)
		}
		m.voice = in
	}
}

func (r *Room) syncVideo(cur *videoIn, src media.Source) *videoIn {
	if cur != nil && cur.src == src {
		return cur
	}
	if cur != nil {
		cur.close()
	}
	if src == nil || !isCodec(src, "video/VP8") {
		return nil
	}
	in, err := newVideoIn(src, r.log)
	if err != nil {
		r.log.Warn("video input", "source", src.ID(), "err", err)
		return nil
	}
	return in
}

func mixHeader(ssrc uint32) rtp.Header {
	return rtp.Header{Version: 2, PayloadType: 111, SSRC: ssrc}
}

func isCodec(s media.Source, mime string) bool { return strings.EqualFold(s.Codec().MimeType, mime) }
