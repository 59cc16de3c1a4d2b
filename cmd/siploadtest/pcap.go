package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/contactcenter/vcc/media/audio"
)

func pcapCmd(args []string) error {
	fs := flag.NewFlagSet("pcap", flag.ExitOnError)
	out := fs.String("o", "load20.pcap", "output file")
	secs := fs.Int("seconds", 70, "length of the stream")
	ulaw := fs.Bool("ulaw", false, "PCMU (payload type 0) instead of PCMA (8)")
	_ = fs.Parse(args)
	return writePcap(*out, time.Duration(*secs)*time.Second, *ulaw)
}

// writePcap writes an Ethernet/IPv4/UDP capture of one RTP stream of 20 ms G.711 packets. sipp
// replaces the addresses and ports and keeps the RTP as it is, pacing it by the capture's times.
func writePcap(path string, length time.Duration, ulaw bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4) // microsecond timestamps
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535)
	le.PutUint32(hdr[20:], 1) // Ethernet
	_, _ = w.Write(hdr)

	pt, encode := byte(8), audio.EncodeALaw
	if ulaw {
		pt, encode = 0, audio.EncodeULaw
	}
	const frame = 160
	pcm := make([]int16, frame)
	var g711 []byte
	pkt := make([]byte, 14+20+8+12+frame)
	n := int(length / (20 * time.Millisecond))
	for i := range n {
		for k := range pcm {
			pcm[k] = int16(6000 * math.Sin(2*math.Pi*440*float64(i*frame+k)/8000))
		}
		g711 = encode(g711[:0], pcm)
		be := binary.BigEndian
		clear(pkt)
		be.PutUint16(pkt[12:], 0x0800) // IPv4
		ip := pkt[14:]
		ip[0], ip[8], ip[9] = 0x45, 64, 17
		be.PutUint16(ip[2:], uint16(20+8+12+frame))
		copy(ip[12:], []byte{127, 0, 0, 1})
		copy(ip[16:], []byte{127, 0, 0, 1})
		udp := ip[20:]
		be.PutUint16(udp[0:], 6000)
		be.PutUint16(udp[2:], 6002)
		be.PutUint16(udp[4:], uint16(8+12+frame))
		r := udp[8:]
		r[0], r[1] = 0x80, pt
		be.PutUint16(r[2:], uint16(i))
		be.PutUint32(r[4:], uint32(i*frame))
		be.PutUint32(r[8:], 0x5eed1234)
		copy(r[12:], g711)
		t := time.Duration(i) * 20 * time.Millisecond
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(t/time.Second))
		le.PutUint32(rec[4:], uint32(t%time.Second/time.Microsecond))
		le.PutUint32(rec[8:], uint32(len(pkt)))
		le.PutUint32(rec[12:], uint32(len(pkt)))
		_, _ = w.Write(rec)
		_, _ = w.Write(pkt)
	}
	if err := w.Flush(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "siploadtest: %s: %d packets of 20 ms %s\n", path, n, map[bool]string{true: "PCMU", false: "PCMA"}[ulaw])
	return nil
}
