// Command vccserver runs the video contact-center media server.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/contactcenter/vcc/cmd/app"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vccserver:", err)
		os.Exit(1)
	}
}

func run() error {
	configFile := flag.String("config", "", "YAML config file (keys override the embedded defaults; VCC_* environment variables override both)")
	listen := flag.String("listen", "", "HTTP listen address HOST:PORT (default 127.0.0.1:8080)")
	data := flag.String("data", "", "data directory (default ./data)")
	sipListen := flag.String("sip", "", "SIP gateway listen address HOST:PORT, or off (default 127.0.0.1:5060)")
	flag.Parse()

	cfg, err := app.LoadConfig(*configFile)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *data != "" {
		cfg.Data = *data
	}
	if *sipListen != "" {
		cfg.SIP.Listen = *sipListen
	}
	srv, err := app.Start(cfg, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "vccserver: open http://%s/ (customer: /customer.html, agent: /agent.html)\n", srv.Addr)
	if srv.SIPAddr != "" {
		fmt.Fprintf(os.Stderr, "vccserver: SIP gateway on %s (udp, tcp as configured)\n", srv.SIPAddr)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
