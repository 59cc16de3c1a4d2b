package call

import (
	"errors"
	"reflect"
	"sync"
	"testing"
)

// DTMF: a phone party's digits go to the agents and supervisors only, and are never written to the
// record; an agent's digits go to a phone party's endpoint, the record keeping only how many.
func TestDigits(t *testing.T) { // R7 R23 R28
	s := conference(pAnn, pZoe, pPat)

	_, fx, err := Next(s, PhoneDigit{Party: "tel:+100", Digit: '5'})
	if err != nil {
		t.Fatal(err)
	}
	want := []Effect{TellStaff{Event: DigitKeyed{CallID: "c1", From: "tel:+100", Digit: '5'}}}
	if !reflect.DeepEqual(fx, want) {
		t.Fatalf("phone digit: effects %#v, want %#v", fx, want)
	}

	_, fx, err = Next(s, SendDigits{By: "zoe", To: "tel:+100", Digits: "12#"})
	if err != nil {
		t.Fatal(err)
	}
	has(t, fx, PlayDigits{To: "tel:+100", Digits: "12#"}, lg(RecDigitsSent, "zoe", "controlling_agent", "to", "tel:+100", "count", "3"))

	for _, c := range []struct {
		name string
		cmd  Command
		want error
	}{
		{"R7 a customer keys nothing to others", SendDigits{By: "ann", To: "tel:+100", Digits: "1"}, ErrForbidden},
		{"not a phone", SendDigits{By: "zoe", To: "ann", Digits: "1"}, ErrInvalidState},
		{"not in the call", SendDigits{By: "zoe", To: "tel:+999", Digits: "1"}, ErrNotFound},
		{"not a digit", SendDigits{By: "zoe", To: "tel:+100", Digits: "12x"}, ErrBadRequest},
		{"too many", SendDigits{By: "zoe", To: "tel:+100", Digits: "123456789012345678901234567890123"}, ErrBadRequest},
		{"none", SendDigits{By: "zoe", To: "tel:+100", Digits: ""}, ErrBadRequest},
		{"a browser party keys no DTMF", PhoneDigit{Party: "ann", Digit: '1'}, ErrBadRequest},
	} {
		got, fx, err := Next(s, c.cmd)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
		checkRefusal(t, s, got, fx, err, c.want)
	}
}

// phoneEndpoint is a fake phone leg: it keys digits and plays the ones it is sent.
type phoneEndpoint struct {
	*fakeEndpoint
	mu     sync.Mutex
	key    func(rune)
	played []string
}

func (p *phoneEndpoint) OnDigit(f func(rune)) { p.mu.Lock(); p.key = f; p.mu.Unlock() }
func (p *phoneEndpoint) SendDigits(d string) error {
	p.mu.Lock()
	p.played = append(p.played, d)
	p.mu.Unlock()
	return nil
}

// Through the center: a phone customer's digit reaches the agent as an event and the customer
// (its own keypad) is not told; the agent's digits are played by the phone's endpoint.
func TestDigitsThroughTheCall(t *testing.T) {
	h := newHarness(t, Config{})
	zoe := h.agent("zoe")
	u := UserRef{ID: "tel:+100", Name: "+100", Role: Customer}
	phone := &phoneEndpoint{fakeEndpoint: newEndpoint(u)}
	n := newNotifier("phone")
	id, err := h.c.Enqueue(h.ctx(), u, "sales", phone, n)
	if err != nil {
		t.Fatal(err)
	}
	st := waitFor(t, n, func(s CallState) bool { return len(s.Parties) == 1 })
	if p := st.Parties[0]; !p.Phone || p.Video {
		t.Fatalf("a phone customer joined as %+v, want phone and no video", p)
	}
	h.available(zoe)
	h.offered(zoe, id)
	if err := h.c.Accept(h.ctx(), zoe.u, id, zoe.ep, zoe.n); err != nil {
		t.Fatal(err)
	}
	waitFor(t, zoe.n, func(s CallState) bool { return s.Phase == PhaseConnected })

	phone.mu.Lock()
	key := phone.key
	phone.mu.Unlock()
	if key == nil {
		t.Fatal("the call did not listen to the phone's keypad")
	}
	key('7')
	if got := waitFor(t, zoe.n, func(DigitKeyed) bool { return true }); got.Digit != '7' || got.From != "tel:+100" {
		t.Fatalf("agent told %+v", got)
	}
	none[DigitKeyed](t, n)

	if err := h.c.Control(h.ctx(), zoe.u, SendDigits{By: "zoe", To: "tel:+100", Digits: "42#"}); err != nil {
		t.Fatal(err)
	}
	phone.mu.Lock()
	defer phone.mu.Unlock()
	if len(phone.played) != 1 || phone.played[0] != "42#" {
		t.Fatalf("phone played %v", phone.played)
	}
}

// A phone holding the call from its side is shown to everyone as remote_hold, without rerouting
// (it is heard again the moment it resumes); a repeated report changes nothing.
func TestRemoteHold(t *testing.T) {
	s := conference(pAnn, pZoe, pPat)
	next, fx, err := Next(s, RemoteHold{Party: "tel:+100", Held: true})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := next.party("tel:+100"); !p.RemoteHold || p.Held {
		t.Fatalf("party after remote hold: %+v", p)
	}
	has(t, fx, lg(RecRemoteHold, "tel:+100", "participant", "held", "true"), Publish{})
	for _, e := range fx {
		if _, ok := e.(Reroute); ok {
			t.Error("a remote hold rerouted the call")
		}
	}
	if v := View(next, "zoe"); !v.Parties[2].RemoteHold {
		t.Errorf("the agent is not shown the remote hold: %+v", v.Parties[2])
	}
	again, fx, err := Next(next, RemoteHold{Party: "tel:+100", Held: true})
	if err != nil || len(fx) != 0 || !reflect.DeepEqual(again, next) {
		t.Errorf("a repeated report: %v, effects %v", err, fx)
	}
}
