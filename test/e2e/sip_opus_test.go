package e2e

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactcenter/vcc/media/audio"
)

// opusPhoneHz is the tone the Opus phone (sipp) plays: none of the parties' tones.
const opusPhoneHz = 440

// writeOpusPcap writes a pcap file (Ethernet, IPv4, UDP, RTP) of n 20 ms Opus packets of a tone at
// hz encoded with libopus, payload type pt, 20 ms apart: what sipp's play_pcap_audio replays (it
// sends each packet's UDP payload, the RTP packet, with the capture's timing). It returns the
// payloads.
func writeOpusPcap(t *testing.T, path string, hz float64, n int, pt uint8) [][]byte {
	t.Helper()
	enc, err := audio.NewOpusEncoder(audio.OpusConfig{})
	if err != nil {
		t.Fatal(err)
	}
	le, be := binary.LittleEndian, binary.BigEndian
	// Global header: magic, version 2.4, GMT offset, accuracy, snap length, link type 1 (Ethernet).
	out := make([]byte, 24)
	le.PutUint32(out[0:], 0xa1b2c3d4)
	le.PutUint16(out[4:], 2)
	le.PutUint16(out[6:], 4)
	le.PutUint32(out[16:], 65535)
	le.PutUint32(out[20:], 1)
	pcm := make([]int16, 960)
	var payloads [][]byte
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		for j := range pcm {
			pcm[j] = int16(6000 * math.Sin(2*math.Pi*hz*float64(i*960+j)/48000))
		}
		p, err := enc.Encode(pcm, make([]byte, 1500))
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, p)
		// RTP: version 2, marker on the first packet, sequence, timestamp, SSRC.
		pkt := make([]byte, 12, 12+len(p))
		pkt[0], pkt[1] = 0x80, pt
		if i == 0 {
			pkt[1] |= 0x80
		}
		be.PutUint16(pkt[2:], uint16(1000+i))
		be.PutUint32(pkt[4:], uint32(i*960))
		be.PutUint32(pkt[8:], 0x5eed0001)
		pkt = append(pkt, p...)
		udp := make([]byte, 8, 8+len(pkt))
		be.PutUint16(udp[0:], 6000)
		be.PutUint16(udp[2:], 6002)
		be.PutUint16(udp[4:], uint16(8+len(pkt))) // checksum 0: none (sipp computes its own)
		udp = append(udp, pkt...)
		ip := make([]byte, 20, 20+len(udp))
		ip[0], ip[8], ip[9] = 0x45, 64, 17 // IPv4, 20-byte header; TTL; UDP
		be.PutUint16(ip[2:], uint16(20+len(udp)))
		be.PutUint16(ip[4:], uint16(i))
		be.PutUint16(ip[6:], 0x4000) // don't fragment
		copy(ip[12:], []byte{127, 0, 0, 1})
		copy(ip[16:], []byte{127, 0, 0, 1})
		var sum uint32
		for k := 0; k < 20; k += 2 {
			sum += uint32(be.Uint16(ip[k:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		be.PutUint16(ip[10:], ^uint16(sum))
		ip = append(ip, udp...)
		eth := make([]byte, 14, 14+len(ip))
		copy(eth, []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00}) // dst, src, IPv4
		eth = append(eth, ip...)
		// Record header: seconds, microseconds, captured and original length.
		at := start.Add(time.Duration(i) * 20 * time.Millisecond)
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(at.Unix()))
		le.PutUint32(rec[4:], uint32(at.Nanosecond()/1000))
		le.PutUint32(rec[8:], uint32(len(eth)))
		le.PutUint32(rec[12:], uint32(len(eth)))
		out = append(out, rec...)
		out = append(out, eth...)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return payloads
}

// A phone that speaks Opus calls in (sipp offering opus/48000/2 and telephone-event/48000, playing
// a 440 Hz tone encoded with libopus): the gateway answers Opus (the scenario checks it), the
// phone is queued, and the agent who accepts it hears the tone, in packets whose payloads are the
// phone's own: passed through the gateway and the SFU with no transcoding.
func TestSIPOpusPhoneCallsIn(t *testing.T) {
	needSipp(t)
	srv := startServer(t, withSIP(""))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	dir := t.TempDir()
	payloads := writeOpusPcap(t, filepath.Join(dir, "opus.pcap"), opusPhoneHz, 300, 111) // 6 s
	sent := make(map[string]bool, len(payloads))
	for _, p := range payloads {
		sent[string(p)] = true
	}

	agent := newParty(t, ctx, srv, "user=agent1", 1)
	var untouched, tone atomic.Int64
	var mu sync.Mutex
	dec, err := audio.NewOpusDecoder()
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, 5760)
	f := func(payload []byte) {
		if sent[string(payload)] {
			untouched.Add(1)
		}
		mu.Lock()
		defer mu.Unlock()
		if n, err := dec.Decode(payload, pcm); err == nil && goertzel(pcm[:n], opusPhoneHz) > 2e5 {
			tone.Add(1)
		}
	}
	agent.onAudio.Store(&f)
	if err := agent.c.Request(ctx, "agent_state", map[string]string{"state": "available"}); err != nil {
		t.Fatal(err)
	}
	phone := startSippIn(t, ctx, dir, freeUDPPort(t), "-sf", scenario("uac_opus.xml"), "-s", "100", srv.SIPAddr)
	m, err := agent.c.WaitFor(ctx, "call_offered", nil)
	if err != nil {
		t.Fatal(err)
	}
	var offer struct {
		CallID   string `json:"call_id"`
		Customer struct{ ID string }
	}
	_ = json.Unmarshal(m.Data, &offer)
	if offer.Customer.ID != "tel:sipp" {
		t.Fatalf("offered customer %+v, want the phone tel:sipp", offer.Customer)
	}
	if err := agent.c.Request(ctx, "accept", map[string]string{"call_id": offer.CallID}); err != nil {
		t.Fatal(err)
	}
	waitCount(t, ctx, "agent hears the phone's 440 Hz", &tone, 50)
	waitCount(t, ctx, "agent gets the phone's Opus payloads untouched", &untouched, 50)
	if reason, by := waitEnded(t, ctx, agent.c, "phone hangs up"); reason != "hangup" || by != "tel:sipp" {
		t.Fatalf("call ended with %q by %q, want hangup by tel:sipp", reason, by)
	}
	phone.wait(t, ctx, "Opus phone call")
	t.Logf("agent: %d packets with the tone, %d with the phone's payload untouched", tone.Load(), untouched.Load())
}
