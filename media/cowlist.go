package media

import (
	"slices"
	"sync"
	"sync/atomic"
)

// CowList is a copy-on-write list of subscribers: Load, on the media path, takes no lock and
// allocates nothing; Add and Remove are rare and copy. The zero value is an empty list.
type CowList[T comparable] struct {
	mu   sync.Mutex
	list atomic.Pointer[[]T]
}

// Load returns the current list; the caller must not modify it.
func (c *CowList[T]) Load() []T {
	if p := c.list.Load(); p != nil {
		return *p
	}
	return nil
}

// Add appends v; adding it twice is a no-op.
func (c *CowList[T]) Add(v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.Load()
	if slices.Contains(cur, v) {
		return
	}
	next := append(slices.Clone(cur), v)
	c.list.Store(&next)
}

// Remove deletes v if present.
func (c *CowList[T]) Remove(v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.Load()
	if i := slices.Index(cur, v); i >= 0 {
		next := slices.Delete(slices.Clone(cur), i, i+1)
		c.list.Store(&next)
	}
}
