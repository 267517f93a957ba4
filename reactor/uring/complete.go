package uring

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// CQReady returns the number of completions ready in the CQ ring. On
// kernels without FeatExtArg it includes the wait timeouts that the Peek
// methods drop.
func (r *Ring) CQReady() uint32 {
	return atomic.LoadUint32(r.cq.tail) - atomic.LoadUint32(r.cq.head)
}

// CQHasOverflow reports whether the kernel holds completions that did not
// fit in the CQ ring; reaping makes room and the Peek methods fetch them.
func (r *Ring) CQHasOverflow() bool {
	return atomic.LoadUint32(r.sq.flags)&sqCQOverflow != 0
}

// PeekCQE returns the oldest ready completion without waiting, or
// unix.EAGAIN when there is none. Hand it back with CQESeen.
func (r *Ring) PeekCQE() (*CompletionQueueEvent, error) {
	if r.ready() == 0 {
		return nil, unix.EAGAIN
	}
	return &r.cq.cqes[atomic.LoadUint32(r.cq.head)&r.cq.mask], nil
}

// WaitCQE returns the oldest completion, waiting for one if none is ready.
// Hand it back with CQESeen.
func (r *Ring) WaitCQE() (*CompletionQueueEvent, error) {
	for {
		if cqe, err := r.PeekCQE(); err == nil {
			return cqe, nil
		}
		_, internal := r.userReady()
		switch _, errno := r.enter(0, 1+internal, enterGetEvents, false); errno {
		case 0, unix.EINTR:
		default:
			return nil, enterError(errno)
		}
	}
}

// PeekBatchCQE fills cqes with up to len(cqes) ready completions, oldest
// first, without waiting, and returns how many it filled. Hand them back
// with CQAdvance(n) once handled.
func (r *Ring) PeekBatchCQE(cqes []*CompletionQueueEvent) uint32 {
	n := min(r.ready(), uint32(len(cqes)))
	head := atomic.LoadUint32(r.cq.head)
	for i := range n {
		cqe := &r.cq.cqes[(head+i)&r.cq.mask]
		if r.isWaitTimeout(cqe) {
			return i
		}
		cqes[i] = cqe
	}
	return n
}

// CQESeen hands one completion from PeekCQE or WaitCQE back to the kernel.
func (r *Ring) CQESeen(cqe *CompletionQueueEvent) {
	if cqe != nil {
		r.CQAdvance(1)
	}
}

// CQAdvance hands the n oldest completions back to the kernel.
func (r *Ring) CQAdvance(n uint32) {
	atomic.StoreUint32(r.cq.head, atomic.LoadUint32(r.cq.head)+n)
}

// ready drops the wait timeouts at the head of the CQ ring and returns the
// number of completions behind them. When there are none but completions
// wait inside the kernel, it fetches them once.
func (r *Ring) ready() uint32 {
	r.dropWaitTimeouts()
	n := r.CQReady()
	if n == 0 && r.cqNeedsEnter() {
		r.getEvents()
		r.dropWaitTimeouts()
		n = r.CQReady()
	}
	return n
}

// getEvents has the kernel post the completions it holds. Errors are left to
// the next Submit or wait, which see the same condition.
func (r *Ring) getEvents() {
	for {
		if _, errno := r.enter(0, 0, enterGetEvents, false); errno != unix.EINTR {
			return
		}
	}
}
