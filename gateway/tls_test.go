package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/contactcenter/vcc/call"
)

// selfSigned writes a certificate and key for 127.0.0.1 and returns their paths.
func selfSigned(t *testing.T) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vcc test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, keyFile
}

// SIP over TLS: a phone reaching the gateway's TLS port is answered and queued like over UDP.
func TestInboundOverTLS(t *testing.T) {
	cert, key := selfSigned(t)
	q := newFakeQueue()
	gw := startGateway(t, Config{TLS: TLSConfig{Listen: "127.0.0.1:0", CertFile: cert, KeyFile: key}}, q)
	if gw.TLSAddr() == "" {
		t.Fatal("no TLS listener")
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgenTLSConfig(&tls.Config{InsecureSkipVerify: true}), // the test's self-signed certificate
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(testLogger())),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(testLogger())))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(testLogger()))
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(gw.TLSAddr())
	pn, _ := strconv.Atoi(port)
	dest := sip.Uri{Scheme: "sip", User: "100", Host: host, Port: pn, UriParams: sip.NewParams()}
	dest.UriParams.Add("transport", "tls")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	req := sip.NewRequest(sip.INVITE, dest)
	from := sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(&from)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(phoneSDP(4000, "sendrecv"))
	dua := &sipgo.DialogUA{Client: cli, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1"}}}
	dlg, err := dua.WriteInvite(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatalf("INVITE over TLS: %v", err)
	}
	_ = dlg.Ack(ctx)
	select {
	case got := <-q.got:
		if got.user.ID != "tel:alice" {
			t.Fatalf("queued %+v", got.user)
		}
	case <-ctx.Done():
		t.Fatal("the TLS caller was not queued")
	}
	_ = dlg.Bye(ctx)

	// A bad certificate path is a configuration error, not a half-started gateway.
	if _, err := New(Config{Listen: "127.0.0.1:0", TLS: TLSConfig{Listen: "127.0.0.1:0", CertFile: "/nonexistent", KeyFile: key}}); err == nil {
		t.Fatal("started with a missing certificate")
	}
}

// A trunk reached over TLS (";transport=tls"): its certificate is checked against sip.trunk's CA
// file, the INVITE goes over TLS and the answered leg's BYE too. Without the CA the handshake
// fails and the dial is reported failed, with nothing sent in clear.
func TestDialOverTLS(t *testing.T) {
	cert, key := selfSigned(t)
	kp, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(testLogger())),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(testLogger())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	srv, _ := sipgo.NewServer(ua, sipgo.WithServerLogger(testLogger()))
	cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(testLogger()))
	tlsPort := l.Addr().(*net.TCPAddr).Port
	cache := sipgo.NewDialogServerCache(cli, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "trunk", Host: "127.0.0.1", Port: tlsPort}})
	media := rtpSocket(t)
	invites, byes := make(chan *sip.Request, 2), make(chan struct{}, 2)
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		invites <- req
		dlg, err := cache.ReadInvite(req, tx)
		if err != nil {
			return
		}
		_ = dlg.RespondSDP([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
			strconv.Itoa(media.LocalAddr().(*net.UDPAddr).Port) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"))
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = cache.ReadAck(req, tx) })
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = cache.ReadBye(req, tx)
		byes <- struct{}{}
	})
	go func() { _ = srv.ServeTLS(l) }()
	uri := "sip:127.0.0.1:" + strconv.Itoa(tlsPort) + ";transport=tls"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	t.Run("trusted", func(t *testing.T) {
		gw := startGateway(t, Config{TLS: TLSConfig{Listen: "127.0.0.1:0", CertFile: cert, KeyFile: key},
			Trunk: Trunk{URI: uri, CAFile: cert}}, nil)
		ep, err := gw.Dial(ctx, "5550123", nil)
		if err != nil {
			t.Fatalf("dial over TLS: %v", err)
		}
		inv := <-invites
		if via := inv.Via(); via == nil || !strings.EqualFold(via.Transport, "TLS") {
			t.Fatalf("INVITE's Via %v, want TLS", via)
		}
		if c := inv.Contact(); c == nil || !strings.Contains(c.Address.String(), "transport=tls") {
			t.Fatalf("INVITE's Contact %v, want one reached over TLS", c)
		}
		_ = ep.Close(call.ReasonEndedByAgent)
		select {
		case <-byes:
		case <-ctx.Done():
			t.Fatal("no BYE over TLS")
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		gw := startGateway(t, Config{TLS: TLSConfig{Listen: "127.0.0.1:0", CertFile: cert, KeyFile: key}, Trunk: Trunk{URI: uri}}, nil)
		ep, err := gw.Dial(ctx, "5550123", nil)
		var de *DialError
		if ep != nil || !errors.As(err, &de) || de.Outcome != "failed" {
			t.Fatalf("got %v, %v; want a failed dial", ep, err)
		}
		select {
		case <-invites:
			t.Fatal("an INVITE reached the trunk over an unverified connection")
		default:
		}
	})
	if _, err := New(Config{Listen: "127.0.0.1:0", Trunk: Trunk{URI: uri}}); !errors.Is(err, ErrConfig) {
		t.Fatalf("a TLS trunk without a TLS listener: %v, want a config error", err)
	}
	if _, err := New(Config{Listen: "127.0.0.1:0", TLS: TLSConfig{Listen: "127.0.0.1:0", CertFile: cert, KeyFile: key},
		Trunk: Trunk{URI: uri, CAFile: key}}); !errors.Is(err, ErrConfig) {
		t.Fatalf("a CA file without certificates: %v, want a config error", err)
	}
}
