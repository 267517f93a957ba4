package uring

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// GetSQE returns the next free submission queue entry, or nil when the SQ
// ring is full; then Submit (reaping completions if the CQ ring is full too)
// and call it again. The entry is not zeroed: fill it with a Prepare method.
func (r *Ring) GetSQE() *SubmissionQueueEntry {
	sq := &r.sq
	if sq.sqeTail-atomic.LoadUint32(sq.head) >= sq.entries {
		return nil
	}
	sqe := &sq.sqes[sq.sqeTail&sq.mask]
	sq.sqeTail++
	return sqe
}

// SQReady returns the number of entries handed out by GetSQE that the kernel
// has not consumed yet.
func (r *Ring) SQReady() uint32 {
	return r.sq.sqeTail - atomic.LoadUint32(r.sq.head)
}

// SQSpaceLeft returns how many more entries GetSQE can hand out now.
func (r *Ring) SQSpaceLeft() uint32 {
	return r.sq.entries - r.SQReady()
}

// Submit hands every prepared entry to the kernel without waiting and
// returns how many it consumed. On error the entries stay queued for the
// next Submit.
func (r *Ring) Submit() (uint, error) {
	return r.submitAndWait(0)
}

// SubmitAndWait submits like Submit, then blocks until at least waitNr
// completions are ready for the Peek methods.
func (r *Ring) SubmitAndWait(waitNr uint32) (uint, error) {
	return r.submitAndWait(waitNr)
}

func (r *Ring) submitAndWait(waitNr uint32) (uint, error) {
	submit := r.flushSQ()
	var submitted uint
	for {
		var flags uint32
		if waitNr > 0 || r.cqNeedsEnter() {
			flags = enterGetEvents
		}
		if submit == 0 && flags == 0 {
			return submitted, nil
		}
		kernelWait := waitNr
		if waitNr > 0 {
			_, internal := r.userReady()
			kernelWait += internal
		}
		n, errno := r.enter(submit, kernelWait, flags, false)
		switch errno {
		case 0:
		case unix.EINTR:
			continue
		default:
			return submitted, enterError(errno)
		}
		submitted += uint(n)
		submit -= n
		// Go round again when the kernel stopped short of the batch (an
		// entry failed to prepare) or a signal ended the wait early.
		if ready, _ := r.userReady(); (n == 0 || submit == 0) && ready >= waitNr {
			return submitted, nil
		}
	}
}

// flushSQ publishes the entries handed out by GetSQE to the kernel and
// returns how many it has not consumed yet.
func (r *Ring) flushSQ() uint32 {
	sq := &r.sq
	if sq.sqeHead != sq.sqeTail {
		sq.sqeHead = sq.sqeTail
		atomic.StoreUint32(sq.tail, sq.sqeTail)
	}
	return sq.sqeTail - atomic.LoadUint32(sq.head)
}

// cqNeedsEnter reports whether completions wait inside the kernel: parked
// after a CQ overflow, or deferred task work (SetupTaskrunFlag).
func (r *Ring) cqNeedsEnter() bool {
	return atomic.LoadUint32(r.sq.flags)&(sqCQOverflow|sqTaskrun) != 0
}
