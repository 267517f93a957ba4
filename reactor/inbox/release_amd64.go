//go:build amd64 && !race

package inbox

import "sync/atomic"

// storeRelease publishes v in seq with release ordering: every write
// before it is visible to a reader whose atomic load sees v. On amd64
// (TSO) that is a plain store; sync/atomic's Store is an XCHG, a full
// barrier that waits for the frame just copied to leave the store buffer.
// Race builds use release_other.go's atomic Store instead: the detector
// does not see this one.
//
// A plain store may still sit in the store buffer when a later load
// executes: x86 reorders a store with a later load of another address.
// Where a load must not pass it (a store-buffering handshake, see the
// package doc), fullFence goes between the two.
func storeRelease(seq *atomic.Uint64, v uint64)

// fullFence orders every store before it ahead of every load after it: a
// LOCK-prefixed OR of zero into the top of the stack, which drains the
// store buffer like MFENCE and costs less (Linux's smp_mb does the same).
func fullFence()
