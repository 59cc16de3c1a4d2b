package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/contactcenter/vcc/call"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Append writes r and updates the call's summary, agents, tags and wrap-ups in the same
// transaction, so a crash never leaves a record without its projection or the reverse. It returns
// after the commit is synced to disk (see Open). A record with the (call, seq) of a stored one
// is refused with ErrDuplicate; an incomplete one with ErrInvalid. Neither writes anything.
func (s *SQLite) Append(ctx context.Context, r call.Record) error {
	if err := validRecord(r); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error { return apply(tx, r) })
}

func validRecord(r call.Record) error {
	switch {
	case r.CallID == "":
		return fmt.Errorf("%w: record without call id", ErrInvalid)
	case r.Seq < 1:
		return fmt.Errorf("%w: record %s/%d: seq must be 1 or more", ErrInvalid, r.CallID, r.Seq)
	case r.Type == "":
		return fmt.Errorf("%w: record %s/%d without type", ErrInvalid, r.CallID, r.Seq)
	case !inRange(r.At):
		return fmt.Errorf("%w: record %s/%d: time %v", ErrInvalid, r.CallID, r.Seq, r.At)
	}
	return nil
}

// isAgentRole tells the party roles that make someone one of the call's agents (CallSummary.Agents).
func isAgentRole(role string) bool {
	switch role {
	case "agent", "controlling_agent", "conferenced_agent":
		return true
	}
	return false
}

// apply stores r and its projections. It runs inside the writer's transaction.
func apply(tx *sql.Tx, r call.Record) error {
	ctx := context.Background()
	at := r.At.UnixNano()
	var data any // NULL for a nil map, so Timeline gives back exactly what was appended
	if r.Data != nil {
		b, err := json.Marshal(r.Data)
		if err != nil {
			return fmt.Errorf("store: encode record %s/%d: %w", r.CallID, r.Seq, err)
		}
		data = string(b)
	}
	// A call's row exists from its first record on, whatever that is, so that EndUnfinished
	// finds a call whose call_started was never written. call_started corrects started_at.
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO calls (id, started_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
		string(r.CallID), at); err != nil {
		return fmt.Errorf("store: append %s/%d: %w", r.CallID, r.Seq, err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO records (call_id, seq, at, type, actor, role, data) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		string(r.CallID), r.Seq, at, r.Type, r.Actor, r.Role, data); err != nil {
		if isConstraint(err) {
			return fmt.Errorf("%w: %s/%d", ErrDuplicate, r.CallID, r.Seq)
		}
		return fmt.Errorf("store: append %s/%d: %w", r.CallID, r.Seq, err)
	}
	if err := project(ctx, tx, r, at); err != nil {
		return fmt.Errorf("store: append %s/%d: %w", r.CallID, r.Seq, err)
	}
	return nil
}

// project updates the tables derived from the log for one record.
func project(ctx context.Context, tx *sql.Tx, r call.Record, at int64) error {
	id := string(r.CallID)
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	if err := exec(`UPDATE calls SET last_seq = max(last_seq, ?) WHERE id = ?`, r.Seq, id); err != nil {
		return err
	}
	switch r.Type {
	case call.RecCallStarted:
		if err := exec(`UPDATE calls SET queue = ?, customer = ?, started_at = ? WHERE id = ?`,
			r.Data["queue"], r.Data["customer"], at, id); err != nil {
			return err
		}
		return addMode(ctx, tx, id, r.Data["mode"])
	case call.RecModeChanged:
		return addMode(ctx, tx, id, r.Data["mode"])
	case call.RecPartyJoined:
		if isAgentRole(r.Role) && r.Actor != "" {
			return exec(`INSERT INTO call_agents (call_id, agent, first_seq) VALUES (?, ?, ?)
				ON CONFLICT (call_id, agent) DO NOTHING`, id, r.Actor, r.Seq)
		}
		if r.Role == string(call.Customer) && r.Actor != "" {
			// A call started without a known customer (R29 outbound) learns it here.
			return exec(`UPDATE calls SET customer = ? WHERE id = ? AND customer = ''`, r.Actor, id)
		}
	case call.RecTag:
		text := r.Data["text"]
		if err := exec(`INSERT INTO tags (call_id, seq, at, by, text, text_fold) VALUES (?, ?, ?, ?, ?, ?)`,
			id, r.Seq, at, r.Actor, text, strings.ToLower(text)); err != nil {
			return err
		}
		return exec(`UPDATE calls SET tags = tags + 1 WHERE id = ?`, id)
	case call.RecWrapup:
		return exec(`INSERT INTO wrapups (call_id, seq, at, agent, reason) VALUES (?, ?, ?, ?, ?)`,
			id, r.Seq, at, r.Actor, r.Data["reason"])
	case call.RecCallEnded:
		return exec(`UPDATE calls SET ended_at = ?, end_reason = ? WHERE id = ?`, at, r.Data["reason"], id)
	}
	return nil
}

// addMode appends mode to the call's modes unless it repeats the last one: a call that goes
// sfu -> mcu reads [sfu mcu] however many times the mode is restated.
func addMode(ctx context.Context, tx *sql.Tx, id, mode string) error {
	if mode == "" {
		return nil
	}
	var raw string
	if err := tx.QueryRowContext(ctx, `SELECT modes FROM calls WHERE id = ?`, id).Scan(&raw); err != nil {
		return err
	}
	var modes []string
	if err := json.Unmarshal([]byte(raw), &modes); err != nil {
		return fmt.Errorf("decode modes: %w", err)
	}
	if len(modes) > 0 && modes[len(modes)-1] == mode {
		return nil
	}
	b, err := json.Marshal(append(modes, mode))
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE calls SET modes = ? WHERE id = ?`, string(b), id)
	return err
}

// isConstraint tells a primary-key or unique violation: the only constraint a well-formed record
// can break is its (call id, seq) key.
func isConstraint(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}
