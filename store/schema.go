package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations returns the schema history, oldest first. Migration i brings a database from
// user_version i to i+1. Never edit a migration that has shipped: append a new one instead, so
// every existing file follows the same path to the current schema.
//
// Times are INTEGER unix nanoseconds UTC everywhere: they sort as numbers, compare without
// parsing, and give back exactly the time.Time that was stored (milliseconds would not), for any
// time between the years 1678 and 2262.
func migrations() []string {
	return []string{
		// v1: the append-only call log and its projections (R25, R26, R27).
		`
CREATE TABLE records (
	call_id TEXT    NOT NULL,
	seq     INTEGER NOT NULL CHECK (seq >= 1),
	at      INTEGER NOT NULL,
	type    TEXT    NOT NULL CHECK (type <> ''),
	actor   TEXT    NOT NULL DEFAULT '',
	role    TEXT    NOT NULL DEFAULT '',
	data    TEXT,  -- JSON object of strings; NULL when the record carries none
	PRIMARY KEY (call_id, seq)
) WITHOUT ROWID;

-- The log is evidence of what happened in a call: nothing may rewrite it.
CREATE TRIGGER records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;
CREATE TRIGGER records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;

CREATE TABLE calls (
	id         TEXT    PRIMARY KEY,
	queue      TEXT    NOT NULL DEFAULT '',
	started_at INTEGER NOT NULL,
	ended_at   INTEGER,            -- NULL while the call goes on
	end_reason TEXT    NOT NULL DEFAULT '',
	customer   TEXT    NOT NULL DEFAULT '',
	modes      TEXT    NOT NULL DEFAULT '[]',  -- JSON array, in order, consecutive duplicates removed
	tags       INTEGER NOT NULL DEFAULT 0,
	last_seq   INTEGER NOT NULL DEFAULT 0      -- where EndUnfinished continues the log
);
CREATE INDEX calls_started  ON calls (started_at);
CREATE INDEX calls_queue    ON calls (queue, started_at);
CREATE INDEX calls_customer ON calls (customer, started_at);
CREATE INDEX calls_reason   ON calls (end_reason, started_at);
CREATE INDEX calls_open     ON calls (started_at) WHERE ended_at IS NULL;

CREATE TABLE call_agents (
	call_id   TEXT    NOT NULL REFERENCES calls (id),
	agent     TEXT    NOT NULL,
	first_seq INTEGER NOT NULL,  -- orders CallSummary.Agents by first arrival
	PRIMARY KEY (call_id, agent)
) WITHOUT ROWID;
CREATE INDEX call_agents_agent ON call_agents (agent, call_id);

CREATE TABLE tags (
	call_id   TEXT    NOT NULL REFERENCES calls (id),
	seq       INTEGER NOT NULL,
	at        INTEGER NOT NULL,
	by        TEXT    NOT NULL DEFAULT '',
	text      TEXT    NOT NULL,
	text_fold TEXT    NOT NULL,  -- lower-cased in Go: SQLite's lower() folds ASCII only
	PRIMARY KEY (call_id, seq)
) WITHOUT ROWID;
CREATE INDEX tags_at ON tags (at);

CREATE TABLE wrapups (
	call_id TEXT    NOT NULL REFERENCES calls (id),
	seq     INTEGER NOT NULL,
	at      INTEGER NOT NULL,
	agent   TEXT    NOT NULL DEFAULT '',
	reason  TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (call_id, seq)
) WITHOUT ROWID;
CREATE INDEX wrapups_agent ON wrapups (agent, at);
`,
		// v2: state that lives outside any one call (R30, R6).
		`
CREATE TABLE callbacks (
	id         TEXT    PRIMARY KEY,
	call_id    TEXT    NOT NULL DEFAULT '',
	customer   TEXT    NOT NULL DEFAULT '',
	name       TEXT    NOT NULL DEFAULT '',
	number     TEXT    NOT NULL DEFAULT '',
	agent      TEXT    NOT NULL DEFAULT '',
	queue      TEXT    NOT NULL DEFAULT '',
	due        INTEGER NOT NULL,
	reason     TEXT    NOT NULL DEFAULT '',
	state      TEXT    NOT NULL,
	created_by TEXT    NOT NULL DEFAULT '',
	created_at INTEGER,
	CHECK (agent <> '' OR queue <> '')
);
CREATE INDEX callbacks_due   ON callbacks (due);
CREATE INDEX callbacks_agent ON callbacks (agent, due);
CREATE INDEX callbacks_queue ON callbacks (queue, due);

CREATE TABLE settings (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);
`,
	}
}

// migrate brings db to schema version target (len(migrations()) in production; less in tests that
// build an old file). Each step runs in its own transaction together with its user_version bump,
// so a crash mid-migration leaves the file at the previous version, never in between.
func migrate(ctx context.Context, db *sql.DB, target int) error {
	all := migrations()
	if target > len(all) {
		return fmt.Errorf("store: migrate to %d: only %d migrations", target, len(all))
	}
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if v > len(all) {
		return fmt.Errorf("%w: file is at version %d, this program knows %d", ErrSchemaTooNew, v, len(all))
	}
	for ; v < target; v++ {
		if err := step(ctx, db, v, all[v]); err != nil {
			return err
		}
	}
	return nil
}

func step(ctx context.Context, db *sql.DB, from int, ddl string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate to v%d: %w", from+1, err)
	}
	defer tx.Rollback()
	// Another process may have migrated while this one waited for the write lock.
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("store: migrate to v%d: %w", from+1, err)
	}
	if v != from {
		return nil
	}
	if _, err := tx.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("store: migrate to v%d: %w", from+1, err)
	}
	// PRAGMA takes no bound parameters; from is an int we control.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", from+1)); err != nil {
		return fmt.Errorf("store: migrate to v%d: %w", from+1, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate to v%d: %w", from+1, err)
	}
	return nil
}
