package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/contactcenter/vcc/call"
)

// EndUnfinished appends a call_ended record (next seq, role "system", Data reason) to every call
// that has none, all in one transaction, and returns their ids oldest first. Run it at start-up,
// before any call loop runs: a live call appending at the same time would collide on the seq.
func (s *SQLite) EndUnfinished(ctx context.Context, reason string, at time.Time) ([]call.CallID, error) {
	if at.IsZero() || !inRange(at) {
		return nil, fmt.Errorf("%w: end time %v", ErrInvalid, at)
	}
	var ended []call.CallID
	err := s.write(ctx, func(tx *sql.Tx) error {
		type open struct {
			id   string
			last int
		}
		var calls []open
		rows, err := tx.QueryContext(context.Background(),
			`SELECT id, last_seq FROM calls WHERE ended_at IS NULL ORDER BY started_at, id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c open
			if err := rows.Scan(&c.id, &c.last); err != nil {
				rows.Close()
				return err
			}
			calls = append(calls, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range calls {
			r := call.Record{
				CallID: call.CallID(c.id), Seq: c.last + 1, At: at, Type: call.RecCallEnded,
				Role: "system", Data: map[string]string{"reason": reason},
			}
			if err := apply(tx, r); err != nil {
				return err
			}
			ended = append(ended, r.CallID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: end unfinished calls: %w", err)
	}
	return ended, nil
}

// Calls lists call summaries, newest first.
func (s *SQLite) Calls(ctx context.Context, f call.CallFilter) ([]call.CallSummary, error) {
	if s.closed() {
		return nil, ErrClosed
	}
	var where []string
	var args []any
	for _, t := range []struct {
		v  time.Time
		op string
	}{{f.From, ">="}, {f.To, "<"}} {
		if t.v.IsZero() {
			continue
		}
		if !inRange(t.v) {
			return nil, fmt.Errorf("%w: filter time %v", ErrInvalid, t.v)
		}
		where = append(where, "c.started_at "+t.op+" ?")
		args = append(args, t.v.UnixNano())
	}
	for _, eq := range []struct{ col, v string }{
		{"c.queue", f.Queue}, {"c.customer", f.Customer}, {"c.end_reason", f.EndReason},
	} {
		if eq.v != "" {
			where = append(where, eq.col+" = ?")
			args = append(args, eq.v)
		}
	}
	if f.Agent != "" {
		where = append(where, "EXISTS (SELECT 1 FROM call_agents a WHERE a.call_id = c.id AND a.agent = ?)")
		args = append(args, f.Agent)
	}
	q := `SELECT c.id, c.queue, c.started_at, c.ended_at, c.end_reason, c.customer, c.modes, c.tags,
		(SELECT json_group_array(agent) FROM
			(SELECT agent FROM call_agents a WHERE a.call_id = c.id ORDER BY a.first_seq))
		FROM calls c`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY c.started_at DESC, c.id DESC LIMIT ?"
	args = append(args, limit(f.Limit))

	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list calls: %w", err)
	}
	defer rows.Close()
	var out []call.CallSummary
	for rows.Next() {
		var (
			c             call.CallSummary
			id            string
			started       int64
			ended         sql.NullInt64
			modes, agents string
		)
		if err := rows.Scan(&id, &c.Queue, &started, &ended, &c.EndReason, &c.Customer, &modes, &c.Tags, &agents); err != nil {
			return nil, fmt.Errorf("store: list calls: %w", err)
		}
		c.ID, c.StartedAt, c.EndedAt = call.CallID(id), fromNS(started), fromNullNS(ended)
		if c.Modes, err = stringList(modes); err != nil {
			return nil, fmt.Errorf("store: call %s modes: %w", id, err)
		}
		if c.Agents, err = stringList(agents); err != nil {
			return nil, fmt.Errorf("store: call %s agents: %w", id, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list calls: %w", err)
	}
	return out, nil
}

// stringList decodes a JSON array of strings; an empty one is nil, as in a fresh CallSummary.
func stringList(raw string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

// Timeline returns every record of the call in seq order; call.ErrNotFound for an unknown call.
func (s *SQLite) Timeline(ctx context.Context, id call.CallID) ([]call.Record, error) {
	if s.closed() {
		return nil, ErrClosed
	}
	rows, err := s.r.QueryContext(ctx,
		`SELECT seq, at, type, actor, role, data FROM records WHERE call_id = ? ORDER BY seq`, string(id))
	if err != nil {
		return nil, fmt.Errorf("store: timeline %s: %w", id, err)
	}
	defer rows.Close()
	var out []call.Record
	for rows.Next() {
		r := call.Record{CallID: id}
		var at int64
		var data sql.NullString
		if err := rows.Scan(&r.Seq, &at, &r.Type, &r.Actor, &r.Role, &data); err != nil {
			return nil, fmt.Errorf("store: timeline %s: %w", id, err)
		}
		r.At = fromNS(at)
		if data.Valid {
			if err := json.Unmarshal([]byte(data.String), &r.Data); err != nil {
				return nil, fmt.Errorf("store: timeline %s/%d data: %w", id, r.Seq, err)
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: timeline %s: %w", id, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: call %s has no records", call.ErrNotFound, id)
	}
	return out, nil
}

// SearchTags finds tags whose text contains query, ignoring case, newest first. It matches with
// instr() on text folded in Go rather than LIKE: a query is plain text, so '%' and '_' in it must
// match themselves, and there is no pattern syntax to escape.
func (s *SQLite) SearchTags(ctx context.Context, query string, n int) ([]call.Tag, error) {
	if s.closed() {
		return nil, ErrClosed
	}
	rows, err := s.r.QueryContext(ctx,
		`SELECT call_id, at, by, text FROM tags WHERE instr(text_fold, ?) > 0
		ORDER BY at DESC, call_id DESC, seq DESC LIMIT ?`, strings.ToLower(query), limit(n))
	if err != nil {
		return nil, fmt.Errorf("store: search tags: %w", err)
	}
	defer rows.Close()
	var out []call.Tag
	for rows.Next() {
		var t call.Tag
		var id string
		var at int64
		if err := rows.Scan(&id, &at, &t.By, &t.Text); err != nil {
			return nil, fmt.Errorf("store: search tags: %w", err)
		}
		t.CallID, t.At = call.CallID(id), fromNS(at)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: search tags: %w", err)
	}
	return out, nil
}
