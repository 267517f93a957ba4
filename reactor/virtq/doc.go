// Package virtq is the device side of a virtio split virtqueue (virtio 1.x,
// "Split Virtqueues") over guest memory mapped by package guestmem.
//
// A Queue pops descriptor chains the driver made available, validating
// everything the guest wrote, and returns them through the used ring in
// batches. The guest is not trusted: a malformed ring or chain is reported
// as a Fault, never a panic and never an access outside guest memory, so
// that the owner can mark the device "needs reset".
//
// # Ownership
//
// A Queue and the Chains it fills belong to one goroutine (the reactor).
// Segments of a popped Chain are views into guest memory borrowed from the
// guest: they stay valid until the chain's head goes back through AddUsed
// and Publish (after which the guest may reuse the buffer) and at most
// until the guestmem.Table changes.
//
// # Memory ordering
//
// The driver runs concurrently on other CPUs. Go's sync/atomic has no
// 16-bit operations, and the ring indices are 16-bit, so every access that
// synchronises with the driver (avail idx and flags, used_event, used idx
// and flags, avail_event) is a sync/atomic operation on the naturally
// aligned 32-bit word that contains the 16-bit field: an atomic load of
// the word, or a compare-and-swap loop that replaces only the field's half
// and leaves the neighbouring half (which may belong to the driver) as it
// is. A 2-aligned 16-bit field never straddles an aligned 32-bit word, so
// this works for the avail ring, which the spec only aligns to 2; Setup
// checks the host alignment and that the containing words lie inside guest
// memory. Everything else (descriptors, avail ring entries, used
// elements, packet data) is accessed with plain loads and stores, ordered
// by those atomics:
//
//   - Go atomics are sequentially consistent and are ordering points for
//     the compiler, which neither moves plain accesses across them nor
//     caches guest memory across them.
//   - amd64 (the target): atomic loads are plain MOVs, which are acquire
//     loads under TSO; the compare-and-swap is LOCK CMPXCHG, a full
//     barrier. That gives the release store before a used idx update and
//     the store-load barrier between publishing an index and reading the
//     other side's event index (the spec's "mb()").
//   - arm64: atomic loads are LDAR (acquire); the compare-and-swap is CASAL
//     or an LDAXR/STLXR loop (release on the store). A release store
//     followed by an acquire load is not reordered (RCsc), which again
//     gives the store-load barrier, provided both sides are these atomics,
//     as they are here.
//
// Guest memory is little-endian (virtio 1.x); the word arithmetic assumes
// a little-endian host, which the build constraint of package ringword
// enforces.
package virtq
