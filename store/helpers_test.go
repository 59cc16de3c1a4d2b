package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/contactcenter/vcc/call"
)

// t0 is a fixed instant with sub-millisecond digits, so round trips prove nanosecond precision.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

func openTemp(t testing.TB, opts ...Option) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vcc.db")
	s, err := Open(path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func reopen(t testing.TB, s *SQLite, path string) *SQLite {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { s2.Close() })
	return s2
}

// callLog appends records to one call with consecutive seqs and times one second apart.
type callLog struct {
	t   testing.TB
	s   *SQLite
	id  call.CallID
	seq int
	at  time.Time
}

func newLog(t testing.TB, s *SQLite, id call.CallID, start time.Time) *callLog {
	return &callLog{t: t, s: s, id: id, at: start}
}

func (l *callLog) add(typ, actor, role string, kv ...string) call.Record {
	l.t.Helper()
	l.seq++
	r := call.Record{CallID: l.id, Seq: l.seq, At: l.at.Add(time.Duration(l.seq-1) * time.Second), Type: typ, Actor: actor, Role: role}
	if len(kv) > 0 {
		r.Data = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			r.Data[kv[i]] = kv[i+1]
		}
	}
	if err := l.s.Append(context.Background(), r); err != nil {
		l.t.Fatalf("Append %s/%d %s: %v", r.CallID, r.Seq, r.Type, err)
	}
	return r
}

// simpleCall stores a started and (unless reason is "") ended call with one agent.
func simpleCall(t testing.TB, s *SQLite, id call.CallID, start time.Time, queue, customer, agent, reason string) {
	t.Helper()
	l := newLog(t, s, id, start)
	l.add(call.RecCallStarted, "", "system", "queue", queue, "customer", customer, "mode", "sfu")
	l.add(call.RecPartyJoined, customer, "customer")
	l.add(call.RecPartyJoined, agent, "controlling_agent")
	if reason != "" {
		l.add(call.RecCallEnded, "", "system", "reason", reason)
	}
}

func ids(cs []call.CallSummary) []call.CallID {
	out := make([]call.CallID, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}
