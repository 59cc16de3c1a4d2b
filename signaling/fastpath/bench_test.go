package fastpath

import (
	"crypto/rand"
	"net"
	"net/netip"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// BenchmarkForward is one packet through the fast path as a 1:1 call forwards it: decrypt the
// sender's SRTP, hand it on, rewrite and encrypt it for the receiver and queue it; every 64
// packets one sendmmsg (a real system call to a local socket drained by another goroutine).
// It must not allocate.
func BenchmarkForward(b *testing.B) {
	port, err := Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer port.Close()
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := sink.ReadFromUDP(buf); err != nil {
				return
			}
		}
	}()
	key := func(n int) []byte { k := make([]byte, n); _, _ = rand.Read(k); return k }
	profile := srtp.ProtectionProfileAeadAes128Gcm
	upKey, upSalt := key(16), key(12)
	from := netip.MustParseAddrPort("127.0.0.1:1")
	in, err := newSession(port, from, profile, key(16), key(12), upKey, upSalt)
	if err != nil {
		b.Fatal(err)
	}
	out, err := newSession(port, sink.LocalAddr().(*net.UDPAddr).AddrPort(), profile, key(16), key(12), key(16), key(12))
	if err != nil {
		b.Fatal(err)
	}
	sender, err := srtp.CreateContext(upKey, upSalt, profile)
	if err != nil {
		b.Fatal(err)
	}
	// The sender's packets, encrypted up front: 1200 bytes of VP8 each.
	pkts := make([][]byte, 1024)
	h := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1111, Marker: true}
	payload := key(1200)
	for i := range pkts {
		h.SequenceNumber, h.Timestamp = uint16(i), uint32(i)*3000
		plain, _ := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
		if pkts[i], err = sender.EncryptRTP(nil, plain, nil); err != nil {
			b.Fatal(err)
		}
	}
	var fwd rtp.Header
	in.Receive(1111, func(h *rtp.Header, p []byte) {
		fwd = rtp.Header{Version: 2, PayloadType: 96, SSRC: 2222, SequenceNumber: h.SequenceNumber, Timestamp: h.Timestamp, Marker: h.Marker}
		_ = out.Send(&fwd, p)
	}, true)
	port.batching = true
	b.SetBytes(1200)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i > 0 && i%len(pkts) == 0 { // a new pass: the replay window would refuse the same indexes
			b.StopTimer()
			for j := range pkts {
				h.SequenceNumber, h.Timestamp = uint16(i+j), uint32(i+j)*3000
				plain, _ := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
				pkts[j], _ = sender.EncryptRTP(pkts[j][:0], plain, nil)
			}
			b.StartTimer()
		}
		if !in.receive(pkts[i%len(pkts)]) {
			b.Fatalf("packet %d not forwarded", i)
		}
		if i%batchSize == batchSize-1 {
			port.endBatch()
			port.outMu.Lock()
			port.batching = true
			port.outMu.Unlock()
		}
	}
}
