// Package inbox is a reactor's packet inbox: other reactors (producers, on
// their own OS threads) hand it routed frames; its own reactor (the one
// consumer) drains them into its guest's RX queue. The hot path takes no
// lock, makes no system call while the consumer is busy, and allocates
// nothing per frame.
//
// # Shape
//
// The inbox is a bounded multi-producer single-consumer ring (Dmitry
// Vyukov's bounded queue, sequence number per slot) over memory allocated
// once by New: Config.Slots slots of SlotSize bytes, plus an overflow tail
// so that a frame longer than a slot occupies several consecutive slots in
// one contiguous piece of memory, even where it wraps past the ring's end.
// Frames up to 2 KiB (every frame of a 1500-byte MTU, with room for a
// virtio-net header) take one slot; a 9000-byte jumbo frame takes five.
// Fixed 9 KiB slots would cost 4.5 times the memory for the common case,
// and a separate pool for large frames a second allocator to get right.
// A frame of up to InlineLen bytes (a short frame, or the head of a lent
// one) is kept in its slot's 128-byte bookkeeping entry instead, so that
// consecutive short frames use consecutive memory.
//
// A producer Reserves room for one frame, copies the frame from its
// guest's TX buffer into the Slot (it may rewrite MACs and TTL there),
// Commits it, and after its batch calls Flush once per inbox it committed
// to. A full or closed inbox refuses the reservation: the producer drops
// the frame and the inbox counts it. A producer never blocks.
//
// # Lending
//
// A producer may put only a frame's first bytes in the Slot and Attach
// the rest where it lies, in its guest's TX buffers (one piece or
// several: a TSO frame's page fragments): the consumer then copies the
// frame once, from one guest straight into the other, and the ring
// carries headers only. A tail in one piece is kept in the slot's
// bookkeeping entry; the list of a tail in several pieces is the
// producer's (an array it keeps per frame in flight), kept by reference
// in a side array, so attaching costs no allocation. Every frame also
// carries its virtio_net_hdr (Slot.SetHeader), so that the consumer knows
// which offloads its sender left to it; a header that is not all zero is
// kept in the side array too, so a plain frame costs the consumer one
// bookkeeping entry. The producer keeps the attached bytes valid
// until Released reports the slot's position released: the consumer's
// Release (which stores the released sequence number) or Close. The
// producer polls that, in order, to give its TX buffers back to its
// guest, and may WaitForRoom to be woken by the next Release.
//
// The consumer takes frames with Next, each a view into the ring, and
// gives them back with Release, in order, after copying them into its
// guest's RX buffers. A frame its guest has no room for yet it gives back
// untouched with Untake, together with the frames taken after it: they
// stay in the ring, and Next returns them again, so that a guest slower
// than its senders fills the inbox and holds the senders back (see
// Backpressure) instead of losing frames. Before it waits on its io_uring
// it calls Park; a producer's Flush writes the Doorbell eventfd (which the
// consumer keeps a READ of 8 bytes armed on) only when it finds the
// consumer parked, so a busy consumer costs producers no system calls and
// a burst from several producers costs at most one wake-up. Park refuses
// while a frame is committed at the consumer's read position; one that
// holds frames back calls ParkHolding, which parks all the same.
//
// # Backpressure
//
// A producer that finds the inbox full may wait instead of dropping: it
// registers its own inbox with WaitForRoom, checks Room once more, and
// sleeps on its own doorbell. The consumer's next Release Flushes every
// registered producer inbox (one atomic load when none waits), waking the
// producers that are parked. A producer bounds its wait itself, so a
// consumer that stops draining cannot stall it.
//
// # Memory ordering
//
// Position p (a 64-bit counter that never wraps) lives in slot p mod
// Slots. Each slot carries an atomic sequence number:
//
//	seq == p          slot free for position p (the consumer released p-Slots)
//	seq == p+1        frame at p committed (only the first slot of a frame)
//	seq == p+Slots    released, free for position p+Slots
//
// A producer loads tail t, needs positions t..t+n-1, and loads the
// sequence of the last one: if it reads t+n-1, the consumer has released
// position t+n-1-Slots and, because it releases in position order, every
// position before it; the producer then claims the range by a
// compare-and-swap of tail from t to t+n, which at most one producer wins.
// It writes the frame and its length, then stores seq = t+1. The consumer
// loads the sequence of its next position and reads the frame only when it
// reads p+1; Go's atomics are sequentially consistent, so that load
// synchronizes with the producer's store and the frame bytes are visible.
// Releasing stores p+Slots into each slot of the frame, in order, after the
// consumer is done reading, and a producer's load of that value orders its
// writes after those reads. Frames of one producer keep their order
// (positions grow with each reservation) and each is taken exactly once,
// or again after Untake, which only moves the consumer's own read
// position back over frames it has not released: their sequences still
// read p+1, so Next finds them committed, and no producer reuses their
// slots before Release stores p+Slots.
//
// Two handshakes let a side sleep; each is a store-buffering pair, in
// which each side stores one word and then loads the other's. x86 (TSO)
// lets a load pass an earlier store to another address that is still in
// the store buffer, so each side needs a full fence between its store and
// its load; with both fenced, at least one side sees the other's store.
// The commits and releases themselves are plain stores on amd64
// (storeRelease): the fence is paid once per batch, not per frame.
//
// Park and Flush. The consumer stores parked = 1 then loads the next
// slot's sequence; its fence is that store itself, sync/atomic's Store, an
// XCHG. A producer stores a sequence (Commit) then, in Flush, loads
// parked; its fence is fullFence at the top of Flush, a LOCK-prefixed OR.
// So either the consumer sees the frame and does not wait, or the
// producer sees the consumer parked and rings.
//
// WaitForRoom and Release. A waiting producer parks its own inbox (XCHG),
// registers in waiters and counts itself in waiting (a CAS and an atomic
// add, both LOCK-prefixed) and then loads the ring's sequences (Room,
// Released). The consumer stores the released sequences then, after
// fullFence, loads waiting. So either the producer sees the room and does
// not sleep, or the consumer sees the waiter and Flushes its inbox, which
// the producer parked before registering, so the Flush finds it parked and
// rings.
//
// # Caveat: unfinished reservations
//
// Frames are consumed in position order, so a reserved Slot that is never
// committed stops the consumer at that position until the inbox is closed.
// A producer must Commit or Cancel every Slot it reserves, also when it
// panics in between (a fault copying from guest memory): it keeps the Slot
// in a field and Cancels it in its recovery path.
package inbox
