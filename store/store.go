// Package store persists call records, tags, wrap-ups, callbacks and settings in one SQLite file
// (call.Store). It uses modernc.org/sqlite, a pure-Go SQLite, so the server builds without cgo.
//
// Every write goes through one goroutine that owns the only write connection: concurrent Appends
// from many call loops queue there instead of failing with SQLITE_BUSY, and the ones that arrive
// while a commit is being synced share the next commit (group commit), so a hundred calls cost
// one fsync, not a hundred. Reads use a separate pool and, thanks to WAL, never wait for writes.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/contactcenter/vcc/call"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

var _ call.Store = (*SQLite)(nil)

// SQLite is a call.Store in one SQLite database file. Safe for concurrent use.
type SQLite struct {
	w, r    *sql.DB // w has exactly one connection, used only by the writer goroutine
	writes  chan writeReq
	closing chan struct{}
	stopped chan struct{}
	once    sync.Once
	cfg     config
}

// Option changes a default of Open.
type Option func(*config)

type config struct {
	busyTimeout time.Duration
	readConns   int
	maxBatch    int
}

// WithBusyTimeout is how long a statement waits for a lock held by another process (a backup, an
// operator's sqlite3 shell) before it fails. Default 5 s.
func WithBusyTimeout(d time.Duration) Option { return func(c *config) { c.busyTimeout = d } }

// WithReadConns is the size of the read pool. Default 4.
func WithReadConns(n int) Option { return func(c *config) { c.readConns = n } }

// WithMaxBatch is the most writes committed together in one transaction. Default 256; 1 turns
// group commit off (one fsync per write).
func WithMaxBatch(n int) Option { return func(c *config) { c.maxBatch = n } }

// Open opens or creates the database file at path and brings its schema up to date.
//
// Durability: journal_mode=WAL with synchronous=FULL. In WAL mode a commit has written its frames
// to the WAL file before it returns, so even synchronous=NORMAL survives a SIGKILL, a panic or
// the OOM killer: the kernel holds the bytes. What NORMAL does not survive is the host going
// down (power, kernel panic, a VM killed) before the next checkpoint's fsync: the last commits
// are lost. R25 asks records to survive "a crash of the server", and an Append acknowledged to
// an agent (a wrap-up, a tag) is a promise, so FULL fsyncs the WAL on every commit. Group commit
// keeps the cost at one fsync per batch of concurrent writes.
//
// path must be a file: ":memory:" would give each pooled connection its own empty database.
func Open(path string, opts ...Option) (*SQLite, error) {
	cfg := config{busyTimeout: 5 * time.Second, readConns: 4, maxBatch: 256}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.readConns < 1 || cfg.maxBatch < 1 || cfg.busyTimeout < 0 {
		return nil, fmt.Errorf("%w: read conns %d, max batch %d, busy timeout %v", ErrInvalid, cfg.readConns, cfg.maxBatch, cfg.busyTimeout)
	}
	if path == "" || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("%w: database path %q must name a file", ErrInvalid, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	busy := fmt.Sprintf("busy_timeout(%d)", cfg.busyTimeout.Milliseconds())

	// _txlock=immediate: a write transaction takes the write lock at BEGIN, so it can never fail
	// half-way with SQLITE_BUSY when it first writes (the deferred-upgrade deadlock).
	w, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_pragma": {busy, "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"},
		"_txlock": {"immediate"},
	}))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := prepare(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}

	// query_only makes a read connection refuse writes, so a read path can never become a
	// second writer and break the one-writer rule.
	r, err := sql.Open("sqlite", dsn(abs, url.Values{"_pragma": {busy, "query_only(1)"}}))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(cfg.readConns)
	r.SetMaxIdleConns(cfg.readConns)

	s := &SQLite{
		w: w, r: r, cfg: cfg,
		writes:  make(chan writeReq),
		closing: make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go s.writer()
	return s, nil
}

// dsn builds a file: URI so that a path containing '?', '#' or '%' still names the right file;
// SQLite ignores the driver's own query parameters.
func dsn(abs string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// prepare checks that the file really is in WAL mode (some file systems cannot share memory for
// the WAL index, and SQLite then silently keeps its rollback journal) and migrates the schema.
func prepare(w *sql.DB) error {
	ctx := context.Background()
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	return migrate(ctx, w, len(migrations()))
}

// Close waits for the writes already accepted, then closes the file. Every other method returns
// ErrClosed afterwards; closing again is a no-op, so a deferred Close may follow an explicit one.
func (s *SQLite) Close() error {
	var err error
	s.once.Do(func() {
		close(s.closing)
		<-s.stopped
		// Readers first: the last connection to close checkpoints the WAL into the main file,
		// and that is the writer's job.
		rerr := s.r.Close()
		werr := s.w.Close()
		if rerr != nil {
			err = fmt.Errorf("store: close: %w", rerr)
		}
		if werr != nil {
			err = fmt.Errorf("store: close: %w", werr)
		}
	})
	return err
}

func (s *SQLite) closed() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// limit applies the page size rule shared by every list: 0 (or less) means the default page.
func limit(n int) int {
	const def, max = 100, 1000
	switch {
	case n <= 0:
		return def
	case n > max:
		return max
	}
	return n
}
