// Command profserver runs the same server as cmd/vccserver (embedded defaults, VCC_* environment)
// in-process with net/http/pprof on a separate loopback port, so a load run can be CPU- and
// heap-profiled: cmd/vccserver has no profiling endpoint. Drop it if vccserver gains one.
//
//	taskset -c 0 go run ./cmd/loadtest/profserver --listen 127.0.0.1:18090 --data /tmp/lt-data
//	curl -o cpu.pb.gz 'http://127.0.0.1:6060/debug/pprof/profile?seconds=15'
package main

import (
	"flag"
	"log"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
	"os/signal"
	"syscall"

	"github.com/contactcenter/vcc/cmd/app"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18090", "server HTTP address")
	data := flag.String("data", "/tmp/lt-data", "data directory")
	pprof := flag.String("pprof", "127.0.0.1:6060", "pprof HTTP address (keep it on loopback)")
	flag.Parse()
	cfg, err := app.LoadConfig("")
	if err != nil {
		log.Fatal(err)
	}
	cfg.Listen, cfg.Data = *listen, *data
	if _, err := app.Start(cfg, nil); err != nil {
		log.Fatal(err)
	}
	go func() { log.Println(http.ListenAndServe(*pprof, nil)) }()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	<-ch
}
