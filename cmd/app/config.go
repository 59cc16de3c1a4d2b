// Package app wires the server together from a configuration: the part of cmd/ that tests and
// tools import to run a whole server in-process.
package app

import (
	_ "embed"
	"fmt"
	"net"
	"os"
	"slices"
	"time"

	"github.com/caarlos0/env/v11"
	"gopkg.in/yaml.v3"
)

//go:embed default.yaml
var defaultYAML []byte

// DemoSecret is the embedded default secret; it is refused on a non-loopback listener.
const DemoSecret = "demo-only-secret-do-not-use-in-production-0123456789"

// Config is the whole server configuration (see default.yaml for every key).
type Config struct {
	Listen    string `yaml:"listen" env:"LISTEN"`
	Data      string `yaml:"data" env:"DATA"`
	LogLevel  string `yaml:"log_level" env:"LOG_LEVEL"`
	VideoMode string `yaml:"video_mode" env:"VIDEO_MODE"`
	Auth      struct {
		Secret     string        `yaml:"secret" env:"SECRET"`
		DemoTokens bool          `yaml:"demo_tokens" env:"DEMO_TOKENS"`
		TokenTTL   time.Duration `yaml:"token_ttl" env:"TOKEN_TTL"`
	} `yaml:"auth" envPrefix:"AUTH_"`
	MCU struct {
		Width       int `yaml:"width" env:"WIDTH"`
		Height      int `yaml:"height" env:"HEIGHT"`
		FPS         int `yaml:"fps" env:"FPS"`
		BitrateKbps int `yaml:"bitrate_kbps" env:"BITRATE_KBPS"`
	} `yaml:"mcu" envPrefix:"MCU_"`
	WebRTC struct {
		PortMin      uint16   `yaml:"port_min" env:"PORT_MIN"`
		PortMax      uint16   `yaml:"port_max" env:"PORT_MAX"`
		UDPPort      int      `yaml:"udp_port" env:"UDP_PORT"`
		FastPath     bool     `yaml:"fast_path" env:"FAST_PATH"`
		PublicIPs    []string `yaml:"public_ips" env:"PUBLIC_IPS"`
		LoopbackOnly *bool    `yaml:"loopback_only" env:"LOOPBACK_ONLY"`
		ICEServers   []string `yaml:"ice_servers" env:"ICE_SERVERS"`
	} `yaml:"webrtc" envPrefix:"WEBRTC_"`
	Signaling struct {
		MessagesPerSecond int `yaml:"messages_per_second" env:"MESSAGES_PER_SECOND"`
	} `yaml:"signaling" envPrefix:"SIGNALING_"`
	Calls struct {
		OfferTimeout time.Duration `yaml:"offer_timeout" env:"OFFER_TIMEOUT"`
	} `yaml:"calls" envPrefix:"CALLS_"`
	SIP    SIPConfig     `yaml:"sip" envPrefix:"SIP_"`
	Queues []QueueConfig `yaml:"queues"`
	Users  []UserConfig  `yaml:"users"`
}

// SIPConfig is the SIP gateway: phones calling in to queues, and external numbers dialled out.
type SIPConfig struct {
	Listen     string   `yaml:"listen" env:"LISTEN"`         // HOST:PORT, or "off"
	Transports []string `yaml:"transports" env:"TRANSPORTS"` // udp, tcp
	Host       string   `yaml:"host" env:"HOST"`             // address in Contact/Via (default: the listen host)
	TLS        struct {
		Listen   string `yaml:"listen" env:"LISTEN"` // HOST:PORT for SIP over TLS; empty: none
		CertFile string `yaml:"cert_file" env:"CERT_FILE"`
		KeyFile  string `yaml:"key_file" env:"KEY_FILE"`
	} `yaml:"tls" envPrefix:"TLS_"`
	RTP struct {
		IP      string        `yaml:"ip" env:"IP"`
		PortMin int           `yaml:"port_min" env:"PORT_MIN"`
		PortMax int           `yaml:"port_max" env:"PORT_MAX"`
		Timeout time.Duration `yaml:"timeout" env:"TIMEOUT"`
		SRTP    string        `yaml:"srtp" env:"SRTP"` // optional, required or off (SDES, inbound calls)
	} `yaml:"rtp" envPrefix:"RTP_"`
	Inbound struct {
		Numbers map[string]string `yaml:"numbers" env:"NUMBERS"`
		Allow   []string          `yaml:"allow" env:"ALLOW"`
		Auth    struct {
			Realm string            `yaml:"realm" env:"REALM"`
			Users map[string]string `yaml:"users" env:"USERS"` // user -> password; empty: no challenge
		} `yaml:"auth" envPrefix:"AUTH_"`
	} `yaml:"inbound" envPrefix:"INBOUND_"`
	Trunk struct {
		URI      string `yaml:"uri" env:"URI"`
		Username string `yaml:"username" env:"USERNAME"`
		Password string `yaml:"password" env:"PASSWORD"`
		CallerID string `yaml:"caller_id" env:"CALLER_ID"`
		CAFile   string `yaml:"ca_file" env:"CA_FILE"`
		SRTP     bool   `yaml:"srtp" env:"SRTP"` // offer SRTP (SDES) on outbound calls
	} `yaml:"trunk" envPrefix:"TRUNK_"`
}

// Enabled reports whether the gateway runs.
func (c SIPConfig) Enabled() bool { return c.Listen != "" && c.Listen != "off" }

// QueueConfig is one queue.
type QueueConfig struct {
	Name          string        `yaml:"name"`
	Skill         string        `yaml:"skill"`
	WrapupReasons []string      `yaml:"wrapup_reasons"`
	WrapupTimeout time.Duration `yaml:"wrapup_timeout"`
	AutoRecord    bool          `yaml:"auto_record"`
}

// UserConfig is one demo user.
type UserConfig struct {
	ID     string   `yaml:"id"`
	Name   string   `yaml:"name"`
	Role   string   `yaml:"role"`
	Skills []string `yaml:"skills"`
}

// LoadConfig reads the embedded defaults, then file (if not empty), then VCC_* environment variables.
func LoadConfig(file string) (Config, error) {
	var c Config
	if err := yaml.Unmarshal(defaultYAML, &c); err != nil {
		return c, fmt.Errorf("embedded config: %w", err)
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		// Lists in the file replace the defaults rather than appending to them.
		c.Queues, c.Users = nil, nil
		if err := yaml.Unmarshal(b, &c); err != nil {
			return c, fmt.Errorf("config %s: %w", file, err)
		}
		if c.Queues == nil || c.Users == nil {
			var d Config
			_ = yaml.Unmarshal(defaultYAML, &d)
			if c.Queues == nil {
				c.Queues = d.Queues
			}
			if c.Users == nil {
				c.Users = d.Users
			}
		}
	}
	if err := env.ParseWithOptions(&c, env.Options{Prefix: "VCC_"}); err != nil {
		return c, fmt.Errorf("config from environment: %w", err)
	}
	return c, nil
}

// Validate checks what would otherwise fail later, or silently.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen %q: %w", c.Listen, err)
	}
	if len(c.Queues) == 0 {
		return fmt.Errorf("at least one queue must be configured")
	}
	if c.SIP.Enabled() {
		if _, _, err := net.SplitHostPort(c.SIP.Listen); err != nil {
			return fmt.Errorf("sip.listen %q (HOST:PORT or off): %w", c.SIP.Listen, err)
		}
		for number, q := range c.SIP.Inbound.Numbers {
			if q != "" && !slices.ContainsFunc(c.Queues, func(x QueueConfig) bool { return x.Name == q }) {
				return fmt.Errorf("sip.inbound.numbers: %s goes to queue %q, which is not configured", number, q)
			}
		}
	}
	if c.Auth.Secret == DemoSecret && !IsLoopback(c.Listen) {
		return fmt.Errorf("auth.secret is the demo secret; set VCC_AUTH_SECRET before listening on %s", c.Listen)
	}
	return nil
}

// IsLoopback reports whether a HOST:PORT listens on loopback only.
func IsLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
