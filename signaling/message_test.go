package signaling

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeRefusals(t *testing.T) {
	cases := []struct {
		in, code string
	}{
		{`{"type":"join"}`, ""},
		{`{"v":1,"type":"offer","id":"7","data":{"sdp":"x"}}`, ""},
		{`{"type":`, CodeBadRequest},
		{`{"type":"join"} {"type":"join"}`, CodeBadRequest},
		{`{"type":"join","bogus":1}`, CodeBadRequest},
		{`{"v":2,"type":"join"}`, CodeUnsupportedVersion},
		{`{"v":1}`, CodeBadRequest},
		{`{"type":"join","re":"1"}`, CodeBadRequest},
		{`{"type":"join","id":"` + strings.Repeat("i", 65) + `"}`, CodeBadRequest},
		{`{"type":"join","data":"` + strings.Repeat("x", MaxMessageSize) + `"}`, CodeTooLarge},
	}
	for _, c := range cases {
		_, err := Decode([]byte(c.in))
		got := ""
		if err != nil {
			got = err.code
		}
		if got != c.code {
			t.Errorf("%.50q: code %q, want %q", c.in, got, c.code)
		}
	}
}

// FuzzDecode: no input makes the decoder panic, and every input either decodes to an envelope the
// handlers can dispatch (a type, version 1) or is refused with a code the protocol defines.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"type":"join","id":"c1","data":{"queue":"general"}}`,
		`{"type":"candidate","data":{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"type":"offer","data":{"sdp":"v=0\r\n"}}`,
		`{"type":"media_state","data":{"audio":true,"video":false}}`,
		`{"v":99}`, `[]`, `null`, `{"type":"x","data":[1,2]}`, "\x00\xff",
	} {
		f.Add([]byte(s))
	}
	known := map[string]bool{CodeBadRequest: true, CodeTooLarge: true, CodeUnsupportedVersion: true}
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := Decode(b)
		if err != nil {
			if !known[err.code] || err.msg == "" {
				t.Fatalf("refusal with code %q message %q", err.code, err.msg)
			}
			return
		}
		if env.Type == "" || env.V != ProtocolVersion || env.Re != "" {
			t.Fatalf("accepted an envelope handlers cannot use: %+v", env)
		}
		// Whatever data a handler gets, its strict decoding refuses or accepts without panicking.
		var m candidateMsg
		_ = decodeData(env.Data, &m)
		if _, err := json.Marshal(env); err != nil {
			t.Fatalf("accepted envelope does not re-encode: %v", err)
		}
	})
}
