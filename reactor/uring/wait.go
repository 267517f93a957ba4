package uring

import (
	"time"

	"golang.org/x/sys/unix"
)

// SubmitAndWaitTimeout submits like Submit, then blocks until at least
// waitNr completions are ready or the relative timeout ts has passed. It
// returns how many entries the kernel consumed, and an error wrapping
// unix.ETIME when the timeout passed with no completion ready. A nil ts
// waits without a timeout. The kernel reads ts before this call returns.
//
// It passes the timeout to io_uring_enter (FeatExtArg); older kernels get a
// TIMEOUT entry instead, which is not counted and whose completion the Peek
// methods drop.
func (r *Ring) SubmitAndWaitTimeout(waitNr uint32, ts *Timespec) (uint, error) {
	if ts == nil {
		return r.submitAndWait(waitNr)
	}
	r.waitTS = *ts
	r.waitDeadline = time.Now().Add(ts.duration())
	if r.features&FeatExtArg != 0 {
		submitted, _, err := r.waitUntil(r.flushSQ(), waitNr, true)
		return submitted, err
	}
	if err := r.queueWaitTimeout(waitNr); err != nil {
		return 0, err
	}
	submitted, left, err := r.waitUntil(r.flushSQ(), waitNr, false)
	if left == 0 && submitted > 0 {
		submitted-- // the TIMEOUT entry, last in the batch, was consumed
	}
	return submitted, err
}

// waitUntil submits submit entries and waits for waitNr completions until
// r.waitDeadline (extArg) or the wait's TIMEOUT entry completes. It returns
// how many entries the kernel consumed and how many it left queued.
func (r *Ring) waitUntil(submit, waitNr uint32, extArg bool) (uint, uint32, error) {
	var submitted uint
	for {
		_, internal := r.userReady()
		n, errno := r.enter(submit, waitNr+internal, enterGetEvents, extArg)
		if errno != 0 && errno != unix.EINTR {
			return submitted, submit, enterError(errno)
		}
		submitted += uint(n)
		submit -= n
		// A signal (EINTR) or a partial submission may have ended the call
		// early: go round again, with the time left.
		left := time.Until(r.waitDeadline)
		timedOut := left <= 0
		if !extArg {
			timedOut = r.waitTimeoutDone()
		}
		ready, _ := r.userReady()
		switch {
		case ready >= waitNr && submit == 0:
			return submitted, submit, nil
		case timedOut && ready == 0:
			return submitted, submit, enterError(unix.ETIME)
		case timedOut:
			return submitted, submit, nil
		}
		r.waitTS = NsecToTimespec(int64(left))
	}
}
