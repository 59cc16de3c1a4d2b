package gateway

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/srtp/v3"
)

// SRTP with SDES keys (RFC 4568, RFC 3711): what SIP phones and carriers that encrypt media use.
// The keys travel in the SDP (a=crypto), so they are only as safe as the signalling: use it with
// SIP over TLS. Each direction has its own key: the phone's (from its a=crypto) decrypts what it
// sends, ours (fresh per leg, in our a=crypto) encrypts what we send, RTP and RTCP alike.

// srtpSuite is a crypto suite we speak, as named in a=crypto.
type srtpSuite struct {
	name    string
	profile srtp.ProtectionProfile
	keyLen  int // master key + master salt, bytes
}

// suites in our order of preference when we offer; an offer's own order decides when we answer.
var suites = []srtpSuite{
	{"AEAD_AES_128_GCM", srtp.ProtectionProfileAeadAes128Gcm, 16 + 12},
	{"AES_CM_128_HMAC_SHA1_80", srtp.ProtectionProfileAes128CmHmacSha1_80, 16 + 14},
	{"AES_CM_128_HMAC_SHA1_32", srtp.ProtectionProfileAes128CmHmacSha1_32, 16 + 14},
}

func suiteNamed(name string) (srtpSuite, bool) {
	for _, s := range suites {
		if s.name == name {
			return s, true
		}
	}
	return srtpSuite{}, false
}

// sdesKey is one a=crypto line: its tag, suite and master key||salt.
type sdesKey struct {
	tag   int
	suite srtpSuite
	key   []byte
}

// SRTP policies (Config.SRTP).
const (
	SRTPOptional = "optional" // answer RTP/SAVP offers with SRTP, RTP/AVP ones in the clear
	SRTPRequired = "required" // refuse offers without SRTP (488)
	SRTPOff      = "off"      // refuse RTP/SAVP offers (488)
)

// parseCrypto reads "1 AES_CM_128_HMAC_SHA1_80 inline:<base64>[|lifetime][|MKI:len] [params]".
// A suite we do not speak, an MKI, or session parameters make it unusable (ok false): the offer
// may list others.
func parseCrypto(arg string) (sdesKey, bool) {
	f := strings.Fields(arg)
	if len(f) != 3 { // session parameters (UNENCRYPTED_SRTP, KDR, ...) are not supported
		return sdesKey{}, false
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return sdesKey{}, false
	}
	s, ok := suiteNamed(f[1])
	if !ok {
		return sdesKey{}, false
	}
	kp, ok := strings.CutPrefix(f[2], "inline:")
	if !ok || strings.Contains(kp, ";") { // several keys
		return sdesKey{}, false
	}
	kp, life, _ := strings.Cut(kp, "|")
	if strings.Contains(life, ":") || strings.Contains(life, "|") { // an MKI
		return sdesKey{}, false
	}
	key, err := base64.StdEncoding.DecodeString(kp)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(kp)
	}
	if err != nil || len(key) != s.keyLen {
		return sdesKey{}, false
	}
	return sdesKey{tag: tag, suite: s, key: key}, true
}

// newSDESKey is a fresh key of suite for our direction.
func newSDESKey(tag int, s srtpSuite) (sdesKey, error) {
	k := sdesKey{tag: tag, suite: s, key: make([]byte, s.keyLen)}
	if _, err := rand.Read(k.key); err != nil {
		return sdesKey{}, err
	}
	return k, nil
}

// line is the key as an a=crypto attribute value.
func (k sdesKey) line() string {
	return fmt.Sprintf("%d %s inline:%s", k.tag, k.suite.name, base64.StdEncoding.EncodeToString(k.key))
}

// context is an SRTP context for the key (RTP and RTCP).
func (k sdesKey) context() (*srtp.Context, error) {
	return srtp.CreateContext(k.key[:16], k.key[16:], k.suite.profile)
}

// rekey applies a re-offer's SRTP key. The same key changes nothing; a new key in the same suite
// replaces the phone's at once (its next packets use it: RFC 4568 7.1.4), while ours stays. A
// re-offer that switches between RTP and SRTP, or changes the suite, is refused.
func (l *Leg) rekey(k *sdesKey) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if (k == nil) != (l.srtpOut == nil) {
		return fmt.Errorf("%w: a re-offer cannot switch between RTP and SRTP", ErrNoCodec)
	}
	if k == nil {
		return nil
	}
	if k.suite.name != l.inKey.suite.name {
		return fmt.Errorf("%w: a re-offer cannot change the SRTP suite (%s)", ErrNoCodec, l.inKey.suite.name)
	}
	l.local.crypto.tag = k.tag // our answer names the offer's tag
	if bytes.Equal(k.key, l.inKey.key) {
		return nil
	}
	in, err := k.context()
	if err != nil {
		return fmt.Errorf("gateway: srtp: %w", err)
	}
	l.srtpIn.Store(in)
	l.inKey = *k
	l.log.Info("phone's SRTP key changed")
	return nil
}

// srtpAllowed applies Config.SRTP to an inbound offer.
func (g *Gateway) srtpAllowed(o Offer) error {
	switch {
	case o.SRTP == nil && g.cfg.SRTP == SRTPRequired:
		return fmt.Errorf("%w: SRTP is required (RTP/SAVP with a=crypto)", ErrNoCodec)
	case o.SRTP != nil && g.cfg.SRTP == SRTPOff:
		return fmt.Errorf("%w: SRTP is off here", ErrNoCodec)
	}
	return nil
}

// mediaWarning says, in a 488's Warning, what an inbound offer must have.
func (g *Gateway) mediaWarning() string {
	switch g.cfg.SRTP {
	case SRTPRequired:
		return "audio Opus, PCMU or PCMA over RTP/SAVP (SDES) only"
	case SRTPOff:
		return "audio Opus, PCMU or PCMA over RTP/AVP only"
	}
	return "audio Opus, PCMU or PCMA over RTP/AVP or RTP/SAVP (SDES)"
}
