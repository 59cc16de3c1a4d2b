package store

import (
	"context"
	"database/sql"
	"fmt"
)

// writeReq is one unit of work for the writer: fn runs inside a transaction that may hold other
// callers' work too, isolated from it by a savepoint, so one failing write (a duplicate seq)
// never takes the others in its batch down with it.
type writeReq struct {
	ctx  context.Context
	fn   func(*sql.Tx) error
	done chan error // buffered: the writer never waits for a caller
}

// write runs fn in the writer and waits for its commit. A context error means fn did not run;
// once the writer has taken fn the outcome is final and reported even if ctx ends meanwhile, so
// a caller never sees "cancelled" for a record that was in fact stored.
func (s *SQLite) write(ctx context.Context, fn func(*sql.Tx) error) error {
	req := writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.writes <- req:
	case <-s.closing:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.done
}

// writer owns the write connection. It takes one request, then every request already waiting
// (up to maxBatch): those are the callers that queued while the previous commit was syncing.
func (s *SQLite) writer() {
	defer close(s.stopped)
	for {
		var batch []writeReq
		select {
		case req := <-s.writes:
			batch = append(batch, req)
		case <-s.closing:
			return
		}
	drain:
		for len(batch) < s.cfg.maxBatch {
			select {
			case req := <-s.writes:
				batch = append(batch, req)
			default:
				break drain
			}
		}
		s.commit(batch)
	}
}

// commit runs a batch in one transaction and answers every request. The transaction does not use
// any caller's context: one caller giving up must not roll back the others' work.
func (s *SQLite) commit(batch []writeReq) {
	errs := make([]error, len(batch))
	err := s.runBatch(batch, errs)
	for i, req := range batch {
		if errs[i] == nil && err != nil {
			errs[i] = err
		}
		req.done <- errs[i]
	}
}

func (s *SQLite) runBatch(batch []writeReq, errs []error) error {
	ctx := context.Background()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	single := len(batch) == 1 // nothing to isolate: skip the savepoint round trips
	ran := false
	for i, req := range batch {
		if err := req.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if single {
			errs[i] = req.fn(tx)
			ran = ran || errs[i] == nil
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			return fmt.Errorf("store: savepoint: %w", err)
		}
		if errs[i] = req.fn(tx); errs[i] != nil {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO w"); err != nil {
				return fmt.Errorf("store: rollback to savepoint: %w", err)
			}
		} else {
			ran = true
		}
		if _, err := tx.ExecContext(ctx, "RELEASE w"); err != nil {
			return fmt.Errorf("store: release savepoint: %w", err)
		}
	}
	if !ran {
		return nil // nothing to keep; the deferred rollback ends the transaction
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}
