package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/contactcenter/vcc/media/audio"
)

func audioCmd(args []string) error {
	fs := flag.NewFlagSet("audio", flag.ExitOnError)
	out := fs.String("o", "load.alaw", "output file")
	secs := fs.Int("seconds", 10, "length (sipp's rtp_stream loops it)")
	ulaw := fs.Bool("ulaw", false, "mu-law instead of A-law")
	_ = fs.Parse(args)
	return writeAudio(*out, time.Duration(*secs)*time.Second, *ulaw)
}

// writeAudio writes raw G.711 at 8 kHz, a 440 Hz tone, for sipp's rtp_stream action, which cuts
// it into 20 ms packets.
func writeAudio(path string, length time.Duration, ulaw bool) error {
	pcm := make([]int16, int(length/time.Second)*8000)
	for k := range pcm {
		pcm[k] = int16(6000 * math.Sin(2*math.Pi*440*float64(k)/8000))
	}
	encode := audio.EncodeALaw
	if ulaw {
		encode = audio.EncodeULaw
	}
	if err := os.WriteFile(path, encode(nil, pcm), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "siploadtest: %s: %s of raw G.711\n", path, length)
	return nil
}
