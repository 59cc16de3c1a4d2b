package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/contactcenter/vcc/call"
)

// SaveCallback inserts cb or replaces the stored callback with its ID (R30: moved, offered, done,
// cancelled). A replacement with no CreatedBy/CreatedAt keeps the stored ones.
func (s *SQLite) SaveCallback(ctx context.Context, cb call.Callback) error {
	if err := validCallback(cb); err != nil {
		return err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(context.Background(), `
INSERT INTO callbacks (id, call_id, customer, name, number, agent, queue, due, reason, state, created_by, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
	call_id = excluded.call_id, customer = excluded.customer, name = excluded.name,
	number = excluded.number, agent = excluded.agent, queue = excluded.queue, due = excluded.due,
	reason = excluded.reason, state = excluded.state,
	created_by = CASE WHEN excluded.created_by = '' THEN created_by ELSE excluded.created_by END,
	created_at = coalesce(excluded.created_at, created_at)`,
			cb.ID, string(cb.CallID), cb.Customer, cb.Name, cb.Number, cb.Agent, cb.Queue,
			cb.Due.UnixNano(), cb.Reason, string(cb.State), cb.CreatedBy, nullNS(cb.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: save callback %s: %w", cb.ID, err)
	}
	return nil
}

func validCallback(cb call.Callback) error {
	var problem string
	switch {
	case cb.ID == "":
		problem = "no id"
	case cb.Due.IsZero() || !inRange(cb.Due):
		problem = fmt.Sprintf("due time %v", cb.Due)
	case !knownState(cb.State):
		problem = fmt.Sprintf("state %q", cb.State)
	case cb.Agent == "" && cb.Queue == "":
		problem = "neither agent nor queue"
	case !cb.CreatedAt.IsZero() && !inRange(cb.CreatedAt):
		problem = fmt.Sprintf("creation time %v", cb.CreatedAt)
	default:
		return nil
	}
	return fmt.Errorf("%w: callback %q: %s", ErrInvalid, cb.ID, problem)
}

func knownState(st call.CallbackState) bool {
	switch st {
	case call.CallbackScheduled, call.CallbackOffered, call.CallbackDone, call.CallbackCancelled:
		return true
	}
	return false
}

const callbackColumns = `id, call_id, customer, name, number, agent, queue, due, reason, state, created_by, created_at`

func scanCallback(row interface{ Scan(...any) error }) (call.Callback, error) {
	var (
		cb         call.Callback
		callID, st string
		due        int64
		createdAt  sql.NullInt64
	)
	err := row.Scan(&cb.ID, &callID, &cb.Customer, &cb.Name, &cb.Number, &cb.Agent, &cb.Queue,
		&due, &cb.Reason, &st, &cb.CreatedBy, &createdAt)
	cb.CallID, cb.State, cb.Due, cb.CreatedAt = call.CallID(callID), call.CallbackState(st), fromNS(due), fromNullNS(createdAt)
	return cb, err
}

// Callback returns one callback; call.ErrNotFound when there is none with that id.
func (s *SQLite) Callback(ctx context.Context, id string) (call.Callback, error) {
	if s.closed() {
		return call.Callback{}, ErrClosed
	}
	cb, err := scanCallback(s.r.QueryRowContext(ctx, `SELECT `+callbackColumns+` FROM callbacks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return call.Callback{}, fmt.Errorf("%w: callback %q", call.ErrNotFound, id)
	}
	if err != nil {
		return call.Callback{}, fmt.Errorf("store: callback %q: %w", id, err)
	}
	return cb, nil
}

// Callbacks lists callbacks by due time, soonest first.
func (s *SQLite) Callbacks(ctx context.Context, f call.CallbackFilter) ([]call.Callback, error) {
	if s.closed() {
		return nil, ErrClosed
	}
	var where []string
	var args []any
	for _, eq := range []struct{ col, v string }{{"agent", f.Agent}, {"queue", f.Queue}, {"state", string(f.State)}} {
		if eq.v != "" {
			where = append(where, eq.col+" = ?")
			args = append(args, eq.v)
		}
	}
	if !f.DueTo.IsZero() {
		if !inRange(f.DueTo) {
			return nil, fmt.Errorf("%w: filter due time %v", ErrInvalid, f.DueTo)
		}
		where = append(where, "due < ?")
		args = append(args, f.DueTo.UnixNano())
	}
	q := `SELECT ` + callbackColumns + ` FROM callbacks`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY due, id LIMIT ?"
	args = append(args, limit(f.Limit))
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list callbacks: %w", err)
	}
	defer rows.Close()
	var out []call.Callback
	for rows.Next() {
		cb, err := scanCallback(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list callbacks: %w", err)
		}
		out = append(out, cb)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list callbacks: %w", err)
	}
	return out, nil
}
