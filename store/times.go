package store

import (
	"database/sql"
	"math"
	"time"
)

// inRange tells whether t can be stored: times are unix nanoseconds, an int64, which covers
// 1678-2262. Every real call time is in it; a zero time.Time (year 1) is not.
func inRange(t time.Time) bool {
	return !t.Before(time.Unix(0, math.MinInt64)) && !t.After(time.Unix(0, math.MaxInt64))
}

// fromNS gives back a stored time, in UTC so that equal instants compare and print alike.
func fromNS(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// nullNS stores a zero time as NULL, for columns where "not yet" is a value.
func nullNS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func fromNullNS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromNS(v.Int64)
}
