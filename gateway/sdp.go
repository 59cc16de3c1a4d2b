package gateway

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Direction is an SDP media direction attribute (RFC 3264 §5.1, §6.1).
type Direction uint8

const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

func (d Direction) String() string {
	switch d {
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return "sendrecv"
}

// Answer is the direction an answerer gives to an offer's direction: what the offerer only sends,
// we only receive, and so on (RFC 3264 §6.1).
func (d Direction) Answer() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

// sends and receives say what a side with this direction does.
func (d Direction) sends() bool    { return d == SendRecv || d == SendOnly }
func (d Direction) receives() bool { return d == SendRecv || d == RecvOnly }

// Static RTP payload types of the codecs a phone leg speaks (RFC 3551). A leg's codec is named by
// its static payload type (ptPCMU, ptPCMA), or codecOpus, which is no payload type.
const (
	ptPCMU uint8 = 0
	ptPCMA uint8 = 8
	// codecOpus names Opus (opus/48000/2, RFC 7587), whose payload type is dynamic.
	codecOpus uint8 = 128
	// ptOpus is the payload type this side offers for Opus, as browsers do.
	ptOpus uint8 = 111
	// ptEvent and ptEvent48 are the payload types this side offers for telephone-event (RFC 4733)
	// at 8000 Hz (with G.711) and 48000 Hz (with Opus).
	ptEvent   uint8 = 101
	ptEvent48 uint8 = 110
)

// opusFmtp is the format parameters this side gives Opus: 10 ms packets at least, in-band FEC
// welcome.
const opusFmtp = "minptime=10;useinbandfec=1"

// maxSDP bounds what ParseSDP reads: a phone's audio offer is a few hundred bytes.
const maxSDP = 16 << 10

// mediaDesc is one m= section of a session description.
type mediaDesc struct {
	kind    string // audio, video, ...
	port    int
	proto   string
	formats []string
	rtpmap  map[uint8]string // payload type -> "encoding/rate", lower case
	dir     Direction
	dirSet  bool
	conn    netip.Addr // the section's c= address, else the session's
	ptime   int
	crypto  []sdesKey // its a=crypto lines that we can use, in the peer's order (RTP/SAVP)
}

// SessionDesc is what a peer's SDP says about its media, as far as a phone leg cares: every m=
// section (an answer must list them all, RFC 3264 §6) and the audio one a leg uses.
type SessionDesc struct {
	medias []mediaDesc
	audio  int // index of the first usable audio section; -1 if none
}

// Offer is what a phone leg takes from the peer's description: where to send RTP, in which codec,
// the telephone-event payload type if any, and the direction the peer asked for.
type Offer struct {
	Remote    netip.AddrPort // where the peer receives RTP; its address may be unspecified (hold, RFC 2543)
	Law       uint8          // chosen codec: ptPCMU, ptPCMA (named by their static payload types) or codecOpus
	PT        uint8          // the payload type on the wire (the static one, or the peer's dynamic alias)
	Event     int            // telephone-event payload type, -1 if not offered
	EventRate int            // its clock rate (8000, or 48000 with Opus); 0 when none
	SRTP      *sdesKey       // the peer's SRTP key (RTP/SAVP, a=crypto); nil: plain RTP
	Dir       Direction      // the peer's direction
	Ptime     int            // the peer's packet time in ms, 0 if not given
}

// ParseSDP reads a session description. It is lenient about what a leg does not use (unknown
// lines, bandwidth, ICE attributes) and strict about what it does: every m= line must parse.
func ParseSDP(body []byte) (*SessionDesc, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrNoSDP)
	}
	if len(body) > maxSDP {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadSDP, len(body))
	}
	sd := &SessionDesc{audio: -1}
	var sessConn netip.Addr
	sessDir, sessDirSet := SendRecv, false
	var cur *mediaDesc
	sawV := false
	for line := range bytes.Lines(body) {
		l := strings.TrimRight(string(line), "\r\n")
		if l == "" {
			continue
		}
		if len(l) < 2 || l[1] != '=' {
			return nil, fmt.Errorf("%w: line %q", ErrBadSDP, trunc(l))
		}
		key, val := l[0], l[2:]
		switch key {
		case 'v':
			if val != "0" {
				return nil, fmt.Errorf("%w: version %q", ErrBadSDP, trunc(val))
			}
			sawV = true
		case 'c':
			addr, err := parseConn(val)
			if err != nil {
				return nil, err
			}
			if cur != nil {
				cur.conn = addr
			} else {
				sessConn = addr
			}
		case 'm':
			m, err := parseMedia(val)
			if err != nil {
				return nil, err
			}
			if len(sd.medias) >= 16 {
				return nil, fmt.Errorf("%w: too many media sections", ErrBadSDP)
			}
			sd.medias = append(sd.medias, m)
			cur = &sd.medias[len(sd.medias)-1]
		case 'a':
			name, arg, _ := strings.Cut(val, ":")
			if d, ok := parseDir(name); ok {
				if cur != nil {
					cur.dir, cur.dirSet = d, true
				} else {
					sessDir, sessDirSet = d, true
				}
				continue
			}
			if cur == nil {
				continue
			}
			switch name {
			case "rtpmap":
				ptStr, enc, ok := strings.Cut(arg, " ")
				pt, err := strconv.ParseUint(ptStr, 10, 8)
				if !ok || err != nil || pt > 127 {
					return nil, fmt.Errorf("%w: rtpmap %q", ErrBadSDP, trunc(arg))
				}
				if len(cur.rtpmap) < 64 {
					cur.rtpmap[uint8(pt)] = strings.ToLower(strings.TrimSpace(enc))
				}
			case "crypto":
				if k, ok := parseCrypto(arg); ok && len(cur.crypto) < 8 {
					cur.crypto = append(cur.crypto, k)
				}
			case "ptime":
				if p, err := strconv.Atoi(strings.TrimSpace(arg)); err == nil && p > 0 && p <= 1000 {
					cur.ptime = p
				}
			}
		}
	}
	if !sawV {
		return nil, fmt.Errorf("%w: no v= line", ErrBadSDP)
	}
	for i := range sd.medias {
		m := &sd.medias[i]
		if !m.conn.IsValid() {
			m.conn = sessConn
		}
		if !m.dirSet && sessDirSet {
			m.dir = sessDir
		}
		if sd.audio < 0 && m.kind == "audio" && m.port > 0 && (m.proto == "RTP/AVP" || m.proto == "RTP/SAVP") && m.conn.IsValid() {
			sd.audio = i
		}
	}
	return sd, nil
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func parseDir(name string) (Direction, bool) {
	switch name {
	case "sendrecv":
		return SendRecv, true
	case "sendonly":
		return SendOnly, true
	case "recvonly":
		return RecvOnly, true
	case "inactive":
		return Inactive, true
	}
	return 0, false
}

// parseConn reads "IN IP4 192.0.2.1" (a multicast TTL suffix is refused: phones do unicast).
func parseConn(val string) (netip.Addr, error) {
	f := strings.Fields(val)
	if len(f) != 3 || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6") {
		return netip.Addr{}, fmt.Errorf("%w: c=%s", ErrBadSDP, trunc(val))
	}
	a, err := netip.ParseAddr(f[2])
	if err != nil || (f[1] == "IP4") != a.Is4() || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%w: c=%s", ErrBadSDP, trunc(val))
	}
	return a, nil
}

// parseMedia reads "audio 49170 RTP/AVP 0 8 101".
func parseMedia(val string) (mediaDesc, error) {
	f := strings.Fields(val)
	if len(f) < 4 {
		return mediaDesc{}, fmt.Errorf("%w: m=%s", ErrBadSDP, trunc(val))
	}
	portStr, _, _ := strings.Cut(f[1], "/")
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return mediaDesc{}, fmt.Errorf("%w: m=%s", ErrBadSDP, trunc(val))
	}
	if len(f) > 64 {
		f = f[:64]
	}
	return mediaDesc{kind: f[0], port: int(port), proto: f[2], formats: f[3:], rtpmap: map[uint8]string{}}, nil
}

// Negotiate picks what a leg uses from a peer's description: the codec prefer (ptPCMU, ptPCMA or
// codecOpus, when the peer still offers it: a leg keeps its codec over a re-INVITE), else Opus
// (opus/48000, wideband and passed through to browsers untranscoded) wherever the peer lists it,
// else the first of PCMU and PCMA in the peer's order of preference; and telephone-event if
// offered, at the codec's clock rate when the peer offers both (with Opus: 48000, else 8000; G.711
// takes 8000 only). ErrNoCodec when there is no audio section in plain RTP or no codec of ours in it.
func (sd *SessionDesc) Negotiate(prefer int) (Offer, error) {
	if sd.audio < 0 {
		return Offer{}, fmt.Errorf("%w: no RTP/AVP or RTP/SAVP audio stream", ErrNoCodec)
	}
	m := &sd.medias[sd.audio]
	o := Offer{Remote: netip.AddrPortFrom(m.conn, uint16(m.port)), Event: -1, Dir: m.dir, Ptime: m.ptime}
	if m.proto == "RTP/SAVP" {
		if len(m.crypto) == 0 {
			return Offer{}, fmt.Errorf("%w: RTP/SAVP without an a=crypto we support (AEAD_AES_128_GCM, AES_CM_128_HMAC_SHA1_80 or _32, no MKI)", ErrNoCodec)
		}
		o.SRTP = &m.crypto[0]
	}
	found, preferred := false, false
	opusPT, ev8, ev48 := -1, -1, -1
	for _, f := range m.formats {
		n, err := strconv.ParseUint(f, 10, 8)
		if err != nil || n > 127 {
			continue
		}
		pt := uint8(n)
		enc, mapped := m.rtpmap[pt]
		name, rate, channels := splitEncoding(enc)
		codec := -1
		switch {
		case enc == "pcmu/8000" || enc == "pcmu/8000/1" || !mapped && pt == ptPCMU:
			codec = int(ptPCMU)
		case enc == "pcma/8000" || enc == "pcma/8000/1" || !mapped && pt == ptPCMA:
			codec = int(ptPCMA)
		case name == "opus" && rate == "48000" && (channels == "" || channels == "2" || channels == "1"):
			if opusPT < 0 {
				opusPT = int(pt)
			}
		case name == "telephone-event" && rate == "8000" && (channels == "" || channels == "1"):
			if ev8 < 0 {
				ev8 = int(pt)
			}
		case name == "telephone-event" && rate == "48000" && (channels == "" || channels == "1"):
			if ev48 < 0 {
				ev48 = int(pt)
			}
		}
		if codec >= 0 && !preferred && (!found || codec == prefer) {
			o.Law, o.PT, found, preferred = uint8(codec), pt, true, codec == prefer
		}
	}
	if opusPT >= 0 && (prefer == int(codecOpus) || !preferred) {
		o.Law, o.PT, found = codecOpus, uint8(opusPT), true
	}
	if !found {
		return Offer{}, fmt.Errorf("%w: no Opus, PCMU or PCMA offered", ErrNoCodec)
	}
	switch {
	case o.Law == codecOpus && ev48 >= 0:
		o.Event, o.EventRate = ev48, 48000
	case ev8 >= 0:
		o.Event, o.EventRate = ev8, 8000
	}
	return o, nil
}

// splitEncoding cuts an rtpmap encoding ("opus/48000/2", lower case) into its name, clock rate and
// channels (empty when not given).
func splitEncoding(enc string) (name, rate, channels string) {
	name, rest, _ := strings.Cut(enc, "/")
	rate, channels, _ = strings.Cut(rest, "/")
	return name, rate, channels
}

// sdpCodec is a codec (ptPCMU, ptPCMA or codecOpus) and the payload type it has in a session.
type sdpCodec struct{ law, pt uint8 }

// sdpEvent is a telephone-event payload type and its clock rate.
type sdpEvent struct {
	pt   uint8
	rate int
}

// localSDP is what this side says about its media.
type localSDP struct {
	addr    netip.Addr // where we receive RTP
	port    int
	session uint64 // o= session id, fixed for the dialog
	version uint64 // o= version, bumped when the description changes
	codecs  []sdpCodec
	events  []sdpEvent // telephone-event payload types; none: no DTMF by RTP
	dir     Direction
	crypto  *sdesKey // our SRTP key (RTP/SAVP); nil: plain RTP
}

// eventsOf is the telephone-event an offer negotiated, as a localSDP lists it.
func eventsOf(o Offer) []sdpEvent {
	if o.Event < 0 {
		return nil
	}
	return []sdpEvent{{uint8(o.Event), o.EventRate}}
}

// marshal writes the description; peer, when not nil, is the offer it answers: each of the
// offer's other m= sections is declined with port 0, as RFC 3264 §6 asks.
func (l *localSDP) marshal(peer *SessionDesc) []byte {
	ipv := "IP4"
	if l.addr.Is6() {
		ipv = "IP6"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=vcc %d %d IN %s %s\r\ns=vcc\r\nc=IN %s %s\r\nt=0 0\r\n",
		l.session, l.version, ipv, l.addr, ipv, l.addr)
	audio := func() {
		proto := " RTP/AVP"
		if l.crypto != nil {
			proto = " RTP/SAVP"
		}
		b.WriteString("m=audio " + strconv.Itoa(l.port) + proto)
		for _, c := range l.codecs {
			b.WriteString(" " + strconv.Itoa(int(c.pt)))
		}
		for _, e := range l.events {
			b.WriteString(" " + strconv.Itoa(int(e.pt)))
		}
		b.WriteString("\r\n")
		for _, c := range l.codecs {
			if c.law == codecOpus {
				fmt.Fprintf(&b, "a=rtpmap:%d opus/48000/2\r\na=fmtp:%d %s\r\n", c.pt, c.pt, opusFmtp)
				continue
			}
			fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", c.pt, codecName(c.law))
		}
		for _, e := range l.events {
			fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/%d\r\na=fmtp:%d 0-15\r\n", e.pt, e.rate, e.pt)
		}
		if l.crypto != nil {
			b.WriteString("a=crypto:" + l.crypto.line() + "\r\n")
		}
		b.WriteString("a=ptime:20\r\na=" + l.dir.String() + "\r\n")
	}
	if peer == nil {
		audio()
		return []byte(b.String())
	}
	for i, m := range peer.medias {
		if i == peer.audio {
			audio()
			continue
		}
		fmts := strings.Join(m.formats, " ")
		fmt.Fprintf(&b, "m=%s 0 %s %s\r\n", m.kind, m.proto, fmts)
	}
	return []byte(b.String())
}
