//go:build amd64 && !race

package inbox

import "sync/atomic"

// storeRelease publishes v in seq with release ordering: every write
// before it is visible to a reader whose atomic load sees v. On amd64
// (TSO) that is a plain store; sync/atomic's Store is an XCHG, a full
// barrier that waits for the frame just copied to leave the store buffer.
// Race builds use release_other.go's atomic Store instead: the detector
// does not see this one.
func storeRelease(seq *atomic.Uint64, v uint64)
