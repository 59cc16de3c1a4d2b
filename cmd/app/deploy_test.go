package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The example production configuration in deploy/ has no unknown (mistyped) key, loads on top of
// the embedded defaults, and starts a server once the values meant to come from the environment
// (secret, addresses) are given; the compose file and the Kubernetes manifests are valid YAML.
func TestDeployFiles(t *testing.T) {
	example := filepath.Join("..", "..", "deploy", "config.example.yaml")
	raw, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var strict Config
	if err := dec.Decode(&strict); err != nil {
		t.Fatalf("%s: %v", example, err)
	}

	cfg, err := LoadConfig(example)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.DemoTokens || cfg.Listen != "0.0.0.0:8080" || cfg.WebRTC.PortMin != 50000 || len(cfg.Queues) != 2 {
		t.Fatalf("example config loaded as %+v", cfg)
	}
	// What the deployment supplies through VCC_* variables and flags.
	cfg.Listen, cfg.Data = "127.0.0.1:0", t.TempDir()
	cfg.Auth.Secret = "an-example-secret-of-more-than-thirty-two-bytes"
	cfg.SIP.Listen, cfg.SIP.Host = "127.0.0.1:0", "127.0.0.1"
	cfg.SIP.RTP.PortMin, cfg.SIP.RTP.PortMax = 0, 0
	srv, err := Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("the example config does not start: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	for _, f := range []string{"compose.yaml", filepath.Join("k8s", "vcc.yaml")} {
		b, err := os.ReadFile(filepath.Join("..", "..", "deploy", f))
		if err != nil {
			t.Fatal(err)
		}
		d := yaml.NewDecoder(bytes.NewReader(b))
		for n := 0; ; n++ {
			var doc map[string]any
			if err := d.Decode(&doc); errors.Is(err, io.EOF) {
				if n == 0 {
					t.Errorf("%s is empty", f)
				}
				break
			} else if err != nil {
				t.Fatalf("%s document %d: %v", f, n, err)
			}
		}
	}
}
