package fastpath

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// pair is a server PeerConnection on a fast Port and a plain pion client connected to it.
type pair struct {
	port           *Port
	server, client *webrtc.PeerConnection
	up, down       *webrtc.TrackLocalStaticRTP // client -> server, server -> client
	got            chan *webrtc.TrackRemote    // tracks arriving at the server
	gotClient      chan *webrtc.TrackRemote
}

func newPair(t *testing.T) *pair {
	t.Helper()
	port, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: port})
	t.Cleanup(func() { _ = mux.Close() })
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetICEUDPMux(mux)
	se.SetDTLSKeyLogWriter(port.KeyLog())
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	server, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	cse := webrtc.SettingEngine{}
	cse.SetIncludeLoopbackCandidate(true)
	cse.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	cme := &webrtc.MediaEngine{}
	if err := cme.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	client, err := webrtc.NewAPI(webrtc.WithMediaEngine(cme), webrtc.WithSettingEngine(cse)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close(); _ = server.Close(); _ = port.Close() })
	p := &pair{port: port, server: server, client: client, got: make(chan *webrtc.TrackRemote, 4), gotClient: make(chan *webrtc.TrackRemote, 4)}
	vp8 := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}
	if p.up, err = webrtc.NewTrackLocalStaticRTP(vp8, "up", "c"); err != nil {
		t.Fatal(err)
	}
	if p.down, err = webrtc.NewTrackLocalStaticRTP(vp8, "down", "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AddTrack(p.up); err != nil {
		t.Fatal(err)
	}
	if _, err := server.AddTrack(p.down); err != nil {
		t.Fatal(err)
	}
	server.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { p.got <- tr })
	client.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { p.gotClient <- tr })
	offer, err := client.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gather := webrtc.GatheringCompletePromise(client)
	if err := client.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gather
	if err := server.SetRemoteDescription(*client.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := server.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	sgather := webrtc.GatheringCompletePromise(server)
	if err := server.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-sgather
	if err := client.SetRemoteDescription(*server.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	return p
}

// remoteOf is the client's address as the server's ICE selected it.
func remoteOf(t *testing.T, pc *webrtc.PeerConnection) netip.AddrPort {
	t.Helper()
	for _, tr := range pc.GetTransceivers() {
		if s := tr.Sender(); s != nil && s.Transport() != nil {
			cp, err := s.Transport().ICETransport().GetSelectedCandidatePair()
			if err == nil && cp != nil {
				a, err := netip.ParseAddr(cp.Remote.Address)
				if err != nil {
					t.Fatal(err)
				}
				return netip.AddrPortFrom(a, cp.Remote.Port)
			}
		}
	}
	t.Fatal("no selected candidate pair")
	return netip.AddrPort{}
}

// The keys the port derives from the handshake decrypt what the browser-side sends, and what the
// port encrypts the client decrypts: both directions off pion's path.
func TestFastPathBothWays(t *testing.T) {
	p := newPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The client sends until the server announces the track (pion needs its first packet).
	payload := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 100) }
	seq := uint16(65000) // the sequence wraps while on the fast path
	send := func(i int) {
		seq++
		if err := p.up.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(i) * 3000, Marker: true}, Payload: payload(i)}); err != nil {
			t.Error(err)
		}
	}
	var tr *webrtc.TrackRemote
	for i := 0; tr == nil; i++ {
		send(i)
		select {
		case tr = <-p.got:
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no track at the server")
		}
	}
	remote := remoteOf(t, p.server)
	s := p.port.Session(remote)
	if s == nil {
		t.Fatalf("no session for %v", remote)
	}
	got := make(chan []byte, 1000)
	s.Receive(uint32(tr.SSRC()), func(h *rtp.Header, pl []byte) { got <- append([]byte(nil), pl...) }, true)
	go func() { // pion's own reader sees the rest of what it had buffered, then nothing
		buf := make([]byte, 1500)
		for {
			if _, _, err := tr.Read(buf); err != nil {
				return
			}
		}
	}()
	var lost, asked []uint16
	for i := 1000; i < 1700; i++ {
		if i == 1100 || i == 1101 { // lost on the way: the session asks for them
			seq++
			lost = append(lost, seq)
			continue
		}
		if i == 1110 { // as the peer's 100 ms ticker would
			for _, pkt := range s.Feedback() {
				if n, ok := pkt.(*rtcp.TransportLayerNack); ok && n.MediaSSRC == uint32(tr.SSRC()) {
					for _, pair := range n.Nacks {
						asked = append(asked, pair.PacketList()...)
					}
				}
			}
		}
		send(i)
		select {
		case b := <-got:
			if b[0] != byte(i) || len(b) != 100 {
				t.Fatalf("fast packet %d: got %d bytes of %d", i, len(b), b[0])
			}
		case <-ctx.Done():
			t.Fatalf("packet %d never came on the fast path (stats %+v)", i, p.port.Stats())
		}
	}
	if !slices.Equal(asked, lost) {
		t.Errorf("NACKed %v, lost %v", asked, lost)
	}
	if p.port.Stats().DecryptFailed.Load() != 0 {
		t.Errorf("%d packets failed to decrypt", p.port.Stats().DecryptFailed.Load())
	}

	// Down: the server's track's negotiated SSRC, sent by the session.
	ssrc := uint32(p.server.GetSenders()[0].GetParameters().Encodings[0].SSRC)
	var ctr *webrtc.TrackRemote
	h := rtp.Header{Version: 2, PayloadType: 96, SSRC: ssrc, SequenceNumber: 65530}
	for i := 0; ctr == nil; i++ {
		h.SequenceNumber++
		h.Timestamp += 3000
		if err := s.Send(&h, payload(i)); err != nil {
			t.Fatal(err)
		}
		select {
		case ctr = <-p.gotClient:
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no track at the client")
		}
	}
	for i := 0; i < 50; i++ {
		pkt, _, err := ctr.ReadRTP()
		if err != nil {
			t.Fatal(err)
		}
		if len(pkt.Payload) != 100 || pkt.SSRC != ssrc {
			t.Fatalf("client got %d bytes, ssrc %d", len(pkt.Payload), pkt.SSRC)
		}
		if i == 0 { // what is buffered at the client is read; now ask for one again
			last := h.SequenceNumber
			if n := s.Resend(ssrc, []rtcp.NackPair{{PacketID: last}}); n != 1 {
				t.Errorf("resend of %d: %d sent", last, n)
			}
		}
		h.SequenceNumber++
		h.Timestamp += 3000
		if err := s.Send(&h, payload(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// A packet from an address its session does not know joins the session only if it authenticates
// under the session receiving its SSRC; Forget drops the session under every address it had.
func TestLatchAuthenticatedOnly(t *testing.T) {
	port, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	profile := srtp.ProtectionProfileAeadAes128Gcm
	k := func(n int) []byte { b := make([]byte, n); _, _ = crand.Read(b); return b }
	key, salt := k(16), k(12)
	home := netip.MustParseAddrPort("127.0.0.1:1000")
	s, err := newSession(port, home, profile, k(16), k(12), key, salt)
	if err != nil {
		t.Fatal(err)
	}
	port.Follow(s, home)
	got := 0
	s.Receive(42, func(*rtp.Header, []byte) { got++ }, false)
	pkt := func(key, salt []byte, seq uint16) []byte {
		c, err := srtp.CreateContext(key, salt, profile)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 42, SequenceNumber: seq}, Payload: []byte{1, 2, 3}}).Marshal()
		b, err := c.EncryptRTP(nil, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	other := netip.MustParseAddrPort("192.0.2.2:2000")
	if port.latch(pkt(k(16), k(12), 1), other) || port.Session(other) != nil {
		t.Fatal("a packet under other keys joined the session")
	}
	if !port.latch(pkt(key, salt, 2), other) || port.Session(other) != s || got != 1 {
		t.Fatalf("an authentic packet from another address: session %p, delivered %d", port.Session(other), got)
	}
	if s.Remote() != home {
		t.Errorf("latching moved the sends to %v", s.Remote())
	}
	port.Forget(s)
	if port.Session(home) != nil || port.Session(other) != nil || port.latch(pkt(key, salt, 3), other) {
		t.Error("a forgotten session still receives")
	}
}
