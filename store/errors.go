package store

import "errors"

// Sentinels, wrapped with %w so that callers can test them with errors.Is. An unknown call or
// callback is reported as call.ErrNotFound (wrapped), the error the call package already maps.
var (
	// ErrInvalid is a record, callback or filter that cannot be stored or used as given; nothing
	// was written.
	ErrInvalid = errors.New("store: invalid input")
	// ErrDuplicate is a record whose (call id, seq) is already stored; the log is append-only.
	ErrDuplicate = errors.New("store: duplicate record")
	// ErrClosed is any use of a store after Close.
	ErrClosed = errors.New("store: closed")
	// ErrSchemaTooNew is a database file written by a newer program: migrating it down is not
	// possible, and writing to it could break the newer program's invariants.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this program")
)
