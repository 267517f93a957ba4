package route

import "sync/atomic"

// Published holds the current Table of a network. Its owner Stores a new
// Table whenever the routes change; readers Load it without a lock. The
// zero value holds no Table (Load returns nil, which routes nothing).
type Published[D any] struct {
	p atomic.Pointer[Table[D]]
}

// Load returns the current Table. A reactor loads it once per batch and
// uses that one snapshot for the whole batch.
func (p *Published[D]) Load() *Table[D] { return p.p.Load() }

// Store publishes t; readers that already loaded the previous Table keep
// using it until they Load again.
func (p *Published[D]) Store(t *Table[D]) { p.p.Store(t) }
