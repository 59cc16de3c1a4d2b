package fastpath

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"net/netip"
	"sync"

	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/srtp/v3"
)

// handshake is what the port saw of one remote address's DTLS handshake, in the clear: the two
// hello randoms, the cipher suite (its PRF hash) and the SRTP profile the server chose. With the
// master secret from the key log that is everything RFC 5764 derives the SRTP keys from.
type handshake struct {
	client, server [32]byte
	haveClient     bool
	haveServer     bool
	weAreClient    bool
	suite          uint16
	profile        srtp.ProtectionProfile
}

// keyLog receives pion/dtls's key log lines ("CLIENT_RANDOM <random> <master secret>") and hands
// each secret to the port, which matches it to a handshake by its client random.
type keyLog struct {
	mu   sync.Mutex
	part []byte
	got  func(clientRandom [32]byte, master []byte)
}

func (k *keyLog) Write(b []byte) (int, error) {
	k.mu.Lock()
	k.part = append(k.part, b...)
	var lines [][]byte
	for {
		i := bytes.IndexByte(k.part, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, append([]byte(nil), k.part[:i]...))
		k.part = k.part[i+1:]
	}
	k.mu.Unlock()
	for _, l := range lines {
		f := bytes.Fields(l)
		if len(f) != 3 || string(f[0]) != "CLIENT_RANDOM" {
			continue
		}
		var cr [32]byte
		master := make([]byte, hex.DecodedLen(len(f[2])))
		if n, err := hex.Decode(cr[:], f[1]); err != nil || n != 32 {
			continue
		}
		if _, err := hex.Decode(master, f[2]); err != nil {
			continue
		}
		k.got(cr, master)
	}
	return len(b), nil
}

// sniff reads a datagram of DTLS records for the hellos of addr's handshake; out says whether we
// sent it. Only the first fragment of a hello is needed (the random is at its start), so
// fragmented or later records cost nothing.
func (h *handshake) sniff(b []byte, out bool) {
	for len(b) >= 13 {
		typ, n := b[0], int(b[11])<<8|int(b[12])
		if len(b) < 13+n {
			return
		}
		rec := b[13 : 13+n]
		b = b[13+n:]
		// content type 22: handshake; epoch 0 (bytes 3-4): still in the clear.
		if typ != 22 || len(rec) < 12+2+32 {
			continue
		}
		if fragOff := int(rec[6])<<16 | int(rec[7])<<8 | int(rec[8]); fragOff != 0 {
			continue
		}
		body := rec[12:]
		switch rec[0] {
		case 1: // ClientHello
			copy(h.client[:], body[2:34])
			h.haveClient, h.weAreClient = true, out
		case 2: // ServerHello
			copy(h.server[:], body[2:34])
			h.haveServer = true
			h.parseServerHello(body[34:])
		}
	}
}

// parseServerHello reads the cipher suite and the use_srtp extension's profile (RFC 5764 4.1.1).
func (h *handshake) parseServerHello(b []byte) {
	if len(b) < 1 || len(b) < 1+int(b[0])+3 {
		return
	}
	b = b[1+int(b[0]):]
	h.suite = uint16(b[0])<<8 | uint16(b[1])
	b = b[3:] // suite, compression
	if len(b) < 2 {
		return
	}
	b = b[2:]
	for len(b) >= 4 {
		typ, n := uint16(b[0])<<8|uint16(b[1]), int(b[2])<<8|int(b[3])
		if len(b) < 4+n {
			return
		}
		if ext := b[4 : 4+n]; typ == 14 && len(ext) >= 4 { // use_srtp
			h.profile = srtp.ProtectionProfile(uint16(ext[2])<<8 | uint16(ext[3]))
		}
		b = b[4+n:]
	}
}

// keys derives the SRTP master keys and salts for our side (local: what we send) and theirs, as
// pion/srtp's ExtractSessionKeysFromDTLS does from the DTLS exporter (RFC 5705, label
// "EXTRACTOR-dtls_srtp").
func (h *handshake) keys(master []byte) (localKey, localSalt, remoteKey, remoteSalt []byte, err error) {
	keyLen, err := h.profile.KeyLen()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	saltLen, err := h.profile.SaltLen()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	hf := func() hash.Hash { return sha256.New() }
	switch h.suite {
	case 0xc02c, 0xc030, 0x009f, 0xc0ad, 0xc0af: // the *_SHA384 suites
		hf = func() hash.Hash { return sha512.New384() }
	}
	seed := append([]byte("EXTRACTOR-dtls_srtp"), h.client[:]...)
	seed = append(seed, h.server[:]...)
	km, err := prf.PHash(master, seed, 2*(keyLen+saltLen), prf.HashFunc(hf))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ck, sk := km[:keyLen], km[keyLen:2*keyLen]
	cs, ss := km[2*keyLen:2*keyLen+saltLen], km[2*keyLen+saltLen:]
	if h.weAreClient {
		return ck, cs, sk, ss, nil
	}
	return sk, ss, ck, cs, nil
}

// handshakes tracks the handshakes in progress by remote address until their keys are known.
type handshakes struct {
	mu     sync.Mutex
	byAddr map[netip.AddrPort]*handshake
	secret map[[32]byte][]byte // master secrets whose hellos were not complete yet
}
