// Temporary: the server in-process with net/http/pprof, for a heap profile. Not to be committed.
package main

import (
	"flag"
	"log"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"

	"github.com/contactcenter/vcc/cmd/app"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18090", "")
	data := flag.String("data", "/tmp/lt-data", "")
	pprof := flag.String("pprof", "127.0.0.1:6060", "")
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
	signal.Notify(ch, os.Interrupt)
	<-ch
}
