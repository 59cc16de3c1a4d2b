package gateway

import (
	"testing"
	"time"

	"github.com/icholy/digest"
)

// A caller answering our challenge with the right password is let in; a wrong password, another
// realm, a forged or an expired nonce are not.
func TestDigestAuth(t *testing.T) {
	a, err := newDigestAuth(InboundAuth{Realm: "cc", Users: map[string]string{"pbx": "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	a.now = func() time.Time { return now }
	answer := func(chalHeader, user, pw string) string {
		chal, err := digest.ParseChallenge(chalHeader)
		if err != nil {
			t.Fatal(err)
		}
		c, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: "sip:100@127.0.0.1", Username: user, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		return c.String()
	}
	chal := a.challenge()
	if user, ok := a.verify("INVITE", answer(chal, "pbx", "s3cret")); !ok || user != "pbx" {
		t.Fatalf("the right password was refused (%q, %v)", user, ok)
	}
	for name, authz := range map[string]string{
		"wrong password": answer(chal, "pbx", "guess"),
		"unknown user":   answer(chal, "eve", "s3cret"),
		"forged nonce":   answer(`Digest realm="cc", nonce="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", algorithm=MD5, qop="auth"`, "pbx", "s3cret"),
		"other realm":    answer(`Digest realm="other", nonce="x", algorithm=MD5, qop="auth"`, "pbx", "s3cret"),
		"garbage":        "Digest ,,,==",
		"empty":          "",
	} {
		if _, ok := a.verify("INVITE", authz); ok {
			t.Errorf("%s: let in", name)
		}
	}
	if _, ok := a.verify("BYE", answer(chal, "pbx", "s3cret")); ok {
		t.Error("an answer for INVITE was accepted for BYE")
	}
	good := answer(chal, "pbx", "s3cret")
	now = now.Add(nonceTTL + time.Second)
	if _, ok := a.verify("INVITE", good); ok {
		t.Error("an expired nonce was accepted")
	}
	if off, _ := newDigestAuth(InboundAuth{}); off != nil {
		t.Error("no users should mean no challenge")
	}
}
