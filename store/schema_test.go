package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/contactcenter/vcc/call"
)

func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// rawDB opens a file the way an older program would have, without migrating it.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, map[string][]string{"_pragma": {"journal_mode(WAL)"}}))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenTwice(t *testing.T) {
	s, path := openTemp(t)
	newLog(t, s, "c1", t0).add(call.RecCallStarted, "", "system")
	s = reopen(t, s, path)
	if v := userVersion(t, s.w); v != len(migrations()) {
		t.Fatalf("version %d, want %d", v, len(migrations()))
	}
	if _, err := s.Timeline(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
}

// An existing empty database (version 0, perhaps created by hand) is migrated from the start.
func TestMigrateFromV0(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vcc.db")
	db := rawDB(t, path)
	if _, err := db.Exec("CREATE TABLE operator_notes (x TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := userVersion(t, s.w); v != len(migrations()) {
		t.Fatalf("version %d", v)
	}
	if err := s.SaveCallback(context.Background(), call.Callback{ID: "x", Queue: "q", Due: t0, State: call.CallbackScheduled}); err != nil {
		t.Fatal(err)
	}
}

// A file written by the first schema version, with calls in it, gains the later tables and keeps
// its calls.
func TestMigrateFromV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vcc.db")
	db := rawDB(t, path)
	if err := migrate(context.Background(), db, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO calls (id, started_at) VALUES ('old', ?)`, t0.UnixNano()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO records (call_id, seq, at, type, data) VALUES ('old', 1, ?, 'call_started', '{"queue":"q"}')`, t0.UnixNano()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	tl, err := s.Timeline(ctx, "old")
	if err != nil || len(tl) != 1 || tl[0].Data["queue"] != "q" || !tl[0].At.Equal(t0) {
		t.Fatalf("old call after migration: %+v %v", tl, err)
	}
	if err := s.SetSetting(ctx, "video_mode", "mcu"); err != nil {
		t.Fatalf("v2 table missing: %v", err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vcc.db")
	db := rawDB(t, path)
	if _, err := db.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err := Open(path); !errors.Is(err, ErrSchemaTooNew) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open: %v, want ErrSchemaTooNew", err)
	}
}
