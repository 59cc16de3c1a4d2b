package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/contactcenter/vcc/call"
	"github.com/contactcenter/vcc/media"
	"github.com/contactcenter/vcc/media/audio"
)

func testLogger() *slog.Logger {
	if os.Getenv("GATEWAY_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startGateway runs a gateway on a free loopback port, closed when the test ends.
func startGateway(t *testing.T, cfg Config, q Queuer) *Gateway {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	g, err := New(cfg, WithLogger(testLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if q != nil {
		g.ServeInbound(q)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

// queued is one Enqueue the fake center received.
type queued struct {
	user  call.UserRef
	queue string
	ep    call.Endpoint
}

// fakeQueue is a center that queues everyone, except that a user id is in one call at a time.
type fakeQueue struct {
	got chan queued
	mu  sync.Mutex
	in  map[string]bool
}

func newFakeQueue() *fakeQueue { return &fakeQueue{got: make(chan queued, 4), in: map[string]bool{}} }

func (f *fakeQueue) Enqueue(_ context.Context, u call.UserRef, q string, ep call.Endpoint, _ call.Notifier) (call.CallID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.in[u.ID] {
		return "", fmt.Errorf("%w: already in a call", call.ErrInvalidState)
	}
	f.in[u.ID] = true
	f.got <- queued{user: u, queue: q, ep: ep}
	return "c1", nil
}

// sipPeer is a SIP user agent for tests: a phone calling in, or a trunk being called.
type sipPeer struct {
	t    *testing.T
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	dua  *sipgo.DialogUA
	addr string
	port int

	mu   sync.Mutex
	dlg  *sipgo.DialogClientSession
	byes chan struct{}
}

// newSIPPeer starts a peer; setup, if not nil, registers more handlers before it serves.
func newSIPPeer(t *testing.T, user string, setup ...func(*sipPeer)) *sipPeer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := conn.LocalAddr().String()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	ua, err := sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(testLogger())),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(testLogger())))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua, sipgo.WithServerLogger(testLogger()))
	cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port),
		sipgo.WithClientConnectionAddr(addr), sipgo.WithClientLogger(testLogger()))
	p := &sipPeer{t: t, ua: ua, srv: srv, cli: cli, addr: addr, port: port, byes: make(chan struct{}, 4)}
	p.dua = &sipgo.DialogUA{Client: cli, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: port}}}
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		p.mu.Lock()
		d := p.dlg
		p.mu.Unlock()
		if d != nil {
			_ = d.ReadBye(req, tx)
		} else {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		}
		p.byes <- struct{}{}
	})
	for _, f := range setup {
		f(p)
	}
	go func() { _ = srv.ServeUDP(conn) }()
	for {
		if c, _ := ua.TransportLayer().GetConnection("udp", addr); c != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	t.Cleanup(func() { _ = ua.Close() })
	return p
}

// invite calls number at the gateway with body as SDP; the dialog is answered or failed.
func (p *sipPeer) invite(ctx context.Context, gw *Gateway, number string, body []byte) (*sipgo.DialogClientSession, error) {
	host, port, _ := net.SplitHostPort(gw.Addr())
	pn, _ := strconv.Atoi(port)
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: number, Host: host, Port: pn})
	from := sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.dua.ContactHDR.Address.User, Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(&from)
	if body != nil {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(body)
	}
	dlg, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		return nil, err
	}
	if err := dlg.Ack(ctx); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.dlg = dlg
	p.mu.Unlock()
	return dlg, nil
}

// status is the SIP status an error of WaitAnswer carries (0 if none).
func status(err error) int {
	if e, ok := err.(*sipgo.ErrDialogResponse); ok {
		return e.Res.StatusCode
	}
	return 0
}

// reinvite sends a re-INVITE within dlg and ACKs its 200; it returns the answer.
func reinvite(ctx context.Context, dlg *sipgo.DialogClientSession, body []byte) (*sip.Response, error) {
	req := sip.NewRequest(sip.INVITE, dlg.InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(body)
	res, err := dlg.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode == 200 {
		ack := sip.NewRequest(sip.ACK, dlg.InviteResponse.Contact().Address)
		if err := dlg.WriteRequest(ack); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// phoneSDP is a phone's offer of PCMU (and telephone-event) with RTP at port, in direction dir.
func phoneSDP(port int, dir string) []byte {
	return fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=%s\r\n", port, dir)
}

// rtpSocket is a phone's RTP port.
func rtpSocket(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// opusSource is a media.Source a test writes Opus packets into.
type opusSource struct {
	id   string
	kind media.Kind
	fan  *media.Fanout
}

func newOpusSource(id string, kind media.Kind) *opusSource {
	return &opusSource{id: id, kind: kind, fan: media.NewFanout(nil)}
}

func (s *opusSource) ID() string    { return s.id }
func (s *opusSource) Label() string { return "test" }
func (s *opusSource) Kind() media.Kind {
	return s.kind
}
func (s *opusSource) Codec() media.Codec {
	if s.kind == media.Video {
		return media.Codec{MimeType: "video/VP8", ClockRate: 90000}
	}
	return opusCodec
}
func (s *opusSource) AddSink(k media.Sink) error { s.fan.Add(k); return nil }
func (s *opusSource) RemoveSink(k media.Sink)    { s.fan.Remove(k) }
func (s *opusSource) RequestKeyframe()           {}

// counter is a media.Sink counting packets.
type counter struct {
	mu sync.Mutex
	n  int
	fn func(h *rtp.Header, payload []byte)
}

func (c *counter) WriteRTP(h *rtp.Header, payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if c.fn != nil {
		c.fn(h, payload)
	}
	return nil
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// eventually polls cond every 10 ms until it holds or 5 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// every20ms calls f with 0, 1, 2... every 20 ms, on its own goroutine, until the returned func is
// called (it waits for the goroutine to stop).
func every20ms(f func(i int)) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			case <-tk.C:
			}
			f(i)
		}
	}()
	return func() { close(quit); <-done }
}

// phoneTone sends a G.711 tone of hz in law (ptPCMU or ptPCMA) from c to dst every 20 ms, as a
// phone does, until the returned func is called. each, if not nil, sees packet i before it is sent
// and returns what to send instead (encrypted, say), or nil to send nothing; it may send more
// packets of its own.
func phoneTone(c *net.UDPConn, dst *net.UDPAddr, hz float64, law uint8, each func(i int, pkt []byte) []byte) (stop func()) {
	pcm8 := make([]int16, frame8)
	h := rtp.Header{Version: 2, PayloadType: law, SSRC: 1}
	return every20ms(func(i int) {
		tone(pcm8, hz, 8000, i*frame8)
		h.SequenceNumber, h.Timestamp = uint16(i), uint32(i*frame8)
		b, _ := (&rtp.Packet{Header: h, Payload: lawOf(law).encode(nil, pcm8)}).Marshal()
		if each != nil {
			b = each(i, b)
		}
		if b != nil {
			_, _ = c.WriteToUDP(b, dst)
		}
	})
}

// mixTone writes a 48 kHz PCM tone of hz to write every 20 ms (a mixer's output) until the
// returned func is called.
func mixTone(write func([]int16), hz float64) (stop func()) {
	pcm := make([]int16, frame48)
	return every20ms(func(i int) {
		tone(pcm, hz, 48000, i*frame48)
		write(pcm)
	})
}

// hearsPCMU counts the packets reaching the phone's socket c (read until it closes) that carry a
// PCMU tone of hz.
func hearsPCMU(c *net.UDPConn, hz float64) *atomic.Int64 {
	var n atomic.Int64
	go readRTP(c, func(h *rtp.Header, p []byte) {
		if h.PayloadType == 0 && power(audio.DecodeULaw(nil, p), hz, 8000) > 1e6 {
			n.Add(1)
		}
	})
	return &n
}

// opusToneSink is a sink counting the Opus packets that carry a tone of hz.
func opusToneSink(hz float64) (*counter, *atomic.Int64) {
	var n atomic.Int64
	dec, _ := audio.NewOpusDecoder()
	pcm := make([]int16, maxOpusSamples)
	return &counter{fn: func(_ *rtp.Header, p []byte) {
		if k, err := dec.Decode(p, pcm); err == nil && power(pcm[:k], hz, 48000) > 1e6 {
			n.Add(1)
		}
	}}, &n
}

// phoneCall places a call to number 100 from a fake phone offering sdp (with %d for its RTP port)
// at a fresh gateway, and returns the leg the queue got and the phone's RTP socket.
func phoneCall(t *testing.T, sdp string) (*Leg, *net.UDPConn) {
	t.Helper()
	q := newFakeQueue()
	gw := startGateway(t, Config{}, q)
	phone := newSIPPeer(t, "dave")
	media8 := rtpSocket(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := phone.invite(ctx, gw, "100", fmt.Appendf(nil, sdp, media8.LocalAddr().(*net.UDPAddr).Port)); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-q.got:
		return got.ep.(*Leg), media8
	case <-ctx.Done():
		t.Fatal("not queued")
	}
	return nil, nil
}

// pcmuSDP is phoneSDP's sendrecv offer (PCMU and telephone-event), for phoneCall.
const pcmuSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
