package call

import "time"

// Clock is injected so tests decide what time it is and when timers fire.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is the part of *time.Timer the center uses.
type Timer interface{ Stop() bool }

// SystemClock is the real clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time                            { return time.Now() }
func (SystemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
