package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/icholy/digest"
)

// InboundAuth makes callers authenticate with SIP digest (RFC 3261 section 22, MD5 with
// qop=auth, which every phone and PBX speaks) before an INVITE is taken. Empty Users: no challenge
// (the source allow list is then the only guard).
type InboundAuth struct {
	Realm string
	Users map[string]string // username -> password
}

// nonceTTL is how long a challenge's nonce is accepted: long enough for a phone to answer the
// challenge, short enough that a captured nonce is soon useless.
const nonceTTL = 5 * time.Minute

// digestAuth issues and checks challenges. Nonces are stateless: the issue time and an HMAC of
// it under a key drawn at start, so nothing is stored per caller and a flood of INVITEs costs no
// memory.
type digestAuth struct {
	realm string
	users map[string]string
	key   [32]byte
	now   func() time.Time
}

func newDigestAuth(cfg InboundAuth) (*digestAuth, error) {
	if len(cfg.Users) == 0 {
		return nil, nil
	}
	a := &digestAuth{realm: cfg.Realm, users: cfg.Users, now: time.Now}
	if a.realm == "" {
		a.realm = "vcc"
	}
	if _, err := rand.Read(a.key[:]); err != nil {
		return nil, err
	}
	return a, nil
}

// challenge is a WWW-Authenticate value with a fresh nonce.
func (a *digestAuth) challenge() string {
	return (&digest.Challenge{Realm: a.realm, Nonce: a.nonce(a.now()), Algorithm: "MD5", QOP: []string{"auth"}}).String()
}

func (a *digestAuth) nonce(at time.Time) string {
	var b [8 + 16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixNano()))
	m := hmac.New(sha256.New, a.key[:])
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// fresh reports whether nonce is one of ours and recent.
func (a *digestAuth) fresh(nonce string) bool {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != 24 {
		return false
	}
	at := time.Unix(0, int64(binary.BigEndian.Uint64(b[:8])))
	if age := a.now().Sub(at); age < 0 || age > nonceTTL {
		return false
	}
	return hmac.Equal([]byte(a.nonce(at)), []byte(nonce))
}

// verify checks an Authorization header for method; it returns the authenticated user.
func (a *digestAuth) verify(method, authorization string) (string, bool) {
	creds, err := digest.ParseCredentials(authorization)
	if err != nil || creds.Realm != a.realm || !a.fresh(creds.Nonce) {
		return "", false
	}
	pw, ok := a.users[creds.Username]
	if !ok {
		return "", false
	}
	chal := &digest.Challenge{Realm: a.realm, Nonce: creds.Nonce, Algorithm: creds.Algorithm}
	if creds.QOP != "" {
		chal.QOP = []string{creds.QOP}
	}
	want, err := digest.Digest(chal, digest.Options{Method: method, URI: creds.URI, Username: creds.Username,
		Password: pw, Cnonce: creds.Cnonce, Count: creds.Nc})
	if err != nil || subtle.ConstantTimeCompare([]byte(want.Response), []byte(creds.Response)) != 1 {
		return "", false
	}
	return creds.Username, true
}
