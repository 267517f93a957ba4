// Package uring is a small io_uring binding over golang.org/x/sys/unix raw
// system calls (io_uring_setup, io_uring_enter, io_uring_register). It is
// shaped like liburing and its Go port giouring (CreateRing, GetSQE,
// Prepare*, Submit, PeekBatchCQE, CQAdvance, ...) so that the reactor can
// switch to github.com/pawelgaczynski/giouring once that module is reachable.
//
// A reactor loop looks like this:
//
//	ring, err := uring.New(256, uring.Options{Flags: uring.SetupSingleIssuer | uring.SetupDeferTaskrun})
//	...
//	sqe := ring.GetSQE() // nil when the SQ ring is full: Submit, then retry
//	sqe.PrepareRead(q.kickFd, q.kickBuf[:], 0)
//	sqe.UserData = token // after Prepare*, which resets the whole entry
//	_, err = ring.SubmitAndWaitTimeout(1, &nextTimer)
//	n := ring.PeekBatchCQE(cqes) // cqes is a preallocated []*CompletionQueueEvent
//	for _, cqe := range cqes[:n] { ... }
//	ring.CQAdvance(n)
//
// # Memory handed to the kernel
//
// Every buffer, Timespec and unix.Msghdr (with the iovecs and control buffer
// it points to) given to a Prepare method is borrowed by the kernel from
// submission until the request's completion has been reaped; for a multishot
// request, until a completion without CQEFMore. The binding keeps no
// reference to it: the caller owns it, must keep it reachable and must not
// reuse it until then. Prepare methods make such memory escape to the heap,
// where Go never moves objects; keep it in fields of a long-lived struct
// allocated once (one 8-byte buffer per eventfd, say) and preparing costs no
// allocation.
//
// Completions returned by PeekCQE, WaitCQE and PeekBatchCQE point into the
// shared CQ ring and stay valid until CQESeen or CQAdvance hands their slots
// back to the kernel.
//
// # Threads
//
// A Ring is not safe for concurrent use: one goroutine owns it. With
// SetupSingleIssuer or SetupDeferTaskrun the kernel also binds the ring to
// the OS thread that created it, so create and drive it from one goroutine
// locked with runtime.LockOSThread; from any other thread io_uring_enter
// fails with EEXIST.
//
// # Errors
//
// Setup and registration errors are wrapped with context. The methods of the
// hot path do not allocate, not even for errors: an io_uring_enter failure
// prints as "io_uring_enter: ..." and unwraps to its unix.Errno, so test it
// with errors.Is(err, unix.ETIME). EINTR is retried internally (a wait with a
// timeout resumes with the time left). PeekCQE returns the bare unix.EAGAIN
// when no completion is ready, as liburing does.
//
// When the CQ ring is full the kernel (IORING_FEAT_NODROP) parks further
// completions; Submit, WaitCQE and the Peek methods move them back into the
// ring once the caller has reaped room. If io_uring_enter reports EBUSY or
// EAGAIN, the queued entries stay queued: reap completions, then Submit again.
//
// All use of package unsafe lives in files named *_unsafe.go.
package uring
