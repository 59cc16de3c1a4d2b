package gateway

import "testing"

// event is one RFC 4733 payload: event code, end bit, volume 10, duration.
func event(code byte, end bool, dur uint16) []byte {
	b := []byte{code, 10, byte(dur >> 8), byte(dur)}
	if end {
		b[1] |= 0x80
	}
	return b
}

func TestDTMF(t *testing.T) {
	var d dtmfDecoder
	var got []rune
	feed := func(ts uint32, p []byte) { got = append(got, d.push(ts, p)...) }
	// '1': three progress packets, then the end packet sent three times.
	for i := range 3 {
		feed(1000, event(1, false, uint16(160*(i+1))))
	}
	for range 3 {
		feed(1000, event(1, true, 640))
	}
	// '#' whose every end packet was lost, then '*' with a single end.
	feed(3000, event(11, false, 160))
	feed(3000, event(11, false, 320))
	feed(5000, event(10, false, 160))
	feed(5000, event(10, true, 480))
	feed(5000, event(10, true, 480))
	// 'D', then a flash (16), which is not a digit; a short payload is ignored.
	feed(7000, event(15, true, 160))
	feed(9000, event(16, true, 160))
	feed(9500, []byte{1, 2})
	if string(got) != "1#*D" {
		t.Fatalf("digits %q, want %q", string(got), "1#*D")
	}
}
