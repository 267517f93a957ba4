package uring

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// On kernels without FeatExtArg, SubmitAndWaitTimeout bounds its wait with a
// TIMEOUT entry whose UserData carries udataTimeout and the wait's number.
// Its completion may land behind the caller's completions, or after the wait
// returned; these helpers keep it out of the caller's sight and counts.

// queueWaitTimeout queues the TIMEOUT entry for a new wait: it completes
// after waitNr other completions or when r.waitTS has passed.
func (r *Ring) queueWaitTimeout(waitNr uint32) error {
	sqe := r.GetSQE()
	if sqe == nil {
		if _, err := r.Submit(); err != nil {
			return err
		}
		if sqe = r.GetSQE(); sqe == nil {
			return enterError(unix.EBUSY)
		}
	}
	r.waitGen++
	sqe.PrepareTimeout(&r.waitTS, waitNr, 0)
	sqe.UserData = udataTimeout | uint64(r.waitGen)
	return nil
}

func (r *Ring) isWaitTimeout(cqe *CompletionQueueEvent) bool {
	return r.features&FeatExtArg == 0 && cqe.UserData&udataTimeout == udataTimeout
}

// dropWaitTimeouts hands the wait timeouts at the head of the CQ ring back
// to the kernel and reports whether the current wait's was among them.
func (r *Ring) dropWaitTimeouts() (current bool) {
	if r.features&FeatExtArg != 0 {
		return false
	}
	for r.CQReady() > 0 {
		cqe := &r.cq.cqes[atomic.LoadUint32(r.cq.head)&r.cq.mask]
		if !r.isWaitTimeout(cqe) {
			break
		}
		current = current || cqe.UserData == udataTimeout|uint64(r.waitGen)
		r.CQAdvance(1)
	}
	return current
}

// userReady returns the number of ready completions for the caller and the
// number of wait timeouts among the ready ones, which a wait on the kernel
// must add to its count.
func (r *Ring) userReady() (ready, internal uint32) {
	ready = r.CQReady()
	if r.features&FeatExtArg != 0 {
		return ready, 0
	}
	head := atomic.LoadUint32(r.cq.head)
	for i := range ready {
		if r.isWaitTimeout(&r.cq.cqes[(head+i)&r.cq.mask]) {
			internal++
		}
	}
	return ready - internal, internal
}

// waitTimeoutDone drops the wait timeouts at the head of the CQ ring and
// reports whether the current wait's timeout has completed.
func (r *Ring) waitTimeoutDone() bool {
	if r.dropWaitTimeouts() {
		return true
	}
	head := atomic.LoadUint32(r.cq.head)
	for i := range r.CQReady() {
		if r.cq.cqes[(head+i)&r.cq.mask].UserData == udataTimeout|uint64(r.waitGen) {
			return true
		}
	}
	return false
}
