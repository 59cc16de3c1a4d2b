// Command siploadtest measures the SIP gateway under load with sipp (docs/BENCHMARKS-sip.md).
//
//	siploadtest audio -o load.alaw
//	    writes 10 s of raw A-law (a 440 Hz tone) that sipp's rtp_stream action loops as 20 ms RTP.
//	siploadtest run -server /tmp/vccserver -calls 400 -rate 20 -duration 60s -window 30s
//	    starts the server pinned to one core and sipp (test/sipp/uac_queue_load.xml) on the other,
//	    reads the server's CPU from /proc over a window once every call is up, then its per-leg
//	    counters from its log, and prints one summary.
//	siploadtest serve -sip 127.0.0.1:5070 -mode agents
//	    a gateway alone (no call center) whose callers hear the music (mode queue) or are bridged
//	    two by two, phone to phone (mode pairs) or through Opus as with a browser agent (mode
//	    agents); the first of each pair hears the music until the second calls. run -mode M starts
//	    it instead of vccserver.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "audio":
		err = audioCmd(os.Args[2:])
	case "run":
		err = runCmd(os.Args[2:])
	case "serve":
		err = serveCmd(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "siploadtest:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: siploadtest audio|run|serve [flags] (-h for each)")
	os.Exit(2)
}
