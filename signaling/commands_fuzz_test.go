package signaling

import (
	"encoding/json"
	"testing"

	"github.com/contactcenter/vcc/call"
)

// FuzzCommandData: the payload decoders of every call control refuse or accept any bytes without
// panicking, and what they accept carries the sender as the actor, never a value from the payload.
func FuzzCommandData(f *testing.F) {
	for _, s := range []string{
		`{"kind":"queue","target":"general"}`, `{"kind":"agent","target":"agent2","transfer":true}`,
		`{"party":"guest-1"}`, `{"on":true}`, `{"on":null}`, `{"layout":"max_customer"}`, `{"text":"refund promised"}`, `{"to":"tel:+100","digits":"12#"}`,
		`{"due":"2026-11-22T09:30:00Z","queue":"general","customer":"c1","reason":"call back"}`, `{"by":"someone-else"}`,
		`null`, `[]`, `"x"`, `{"kind":1}`,
	} {
		f.Add([]byte(s))
	}
	builders := []func(by string, raw json.RawMessage) error{
		func(by string, raw json.RawMessage) error { _, _, err := targetOf(raw); return err },
		func(by string, raw json.RawMessage) error { return checkActor(holdCmd(true), by, raw) },
		func(by string, raw json.RawMessage) error { return checkActor(holdCmd(false), by, raw) },
		func(by string, raw json.RawMessage) error { return checkActor(layoutCmd, by, raw) },
		func(by string, raw json.RawMessage) error { return checkActor(tagCmd, by, raw) },
		func(by string, raw json.RawMessage) error { return checkActor(dtmfCmd, by, raw) },
		func(by string, raw json.RawMessage) error {
			var m callbackMsg
			if err := decodeData(raw, &m); err != nil {
				return err
			}
			_, err := parseDue(m.Due)
			return err
		},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, build := range builders {
			if err := build("me", json.RawMessage(b)); err != nil {
				if pe := toProto(err); pe.code != CodeBadRequest {
					t.Fatalf("refusal with code %q: %v", pe.code, err)
				}
			}
		}
		_ = checkOffer(string(b))
	})
}

// checkActor builds a command and fails if its actor is not the sender.
func checkActor(build func(call.PartyID, json.RawMessage) (call.Command, error), by string, raw json.RawMessage) error {
	cmd, err := build(call.PartyID(by), raw)
	if err != nil {
		return err
	}
	var actor call.PartyID
	switch c := cmd.(type) {
	case call.Hold:
		actor = c.By
	case call.Resume:
		actor = c.By
	case call.SetLayout:
		actor = c.By
	case call.AddTag:
		actor = c.By
	case call.SendDigits:
		actor = c.By
	}
	if actor != call.PartyID(by) {
		return newError("actor", "command acts for "+string(actor))
	}
	return nil
}
