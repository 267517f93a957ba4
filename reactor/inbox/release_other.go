//go:build !amd64 || race

package inbox

import "sync/atomic"

// storeRelease publishes v in seq; see release_amd64.go.
func storeRelease(seq *atomic.Uint64, v uint64) { seq.Store(v) }

// fullFence does nothing here: storeRelease is a sequentially consistent
// atomic store, which no later atomic load passes.
func fullFence() {}
