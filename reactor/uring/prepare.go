package uring

// prepare resets the entry to a request with the given fields and all
// others zero.
func (e *SubmissionQueueEntry) prepare(op uint8, fd int, addr uint64, length uint32, offset uint64) {
	*e = SubmissionQueueEntry{OpCode: op, Fd: int32(fd), Addr: addr, Len: length, Off: offset}
}

// PrepareNop prepares a request that does nothing and completes with Res 0.
func (e *SubmissionQueueEntry) PrepareNop() {
	e.prepare(OpNop, -1, 0, 0, 0)
}

// PreparePollAdd prepares a one-shot poll of fd for pollMask (unix.POLLIN,
// unix.POLLOUT, ...). It completes once, with the ready events in Res.
func (e *SubmissionQueueEntry) PreparePollAdd(fd int, pollMask uint32) {
	e.prepare(OpPollAdd, fd, 0, 0, 0)
	e.OpcodeFlags = pollMask32(pollMask)
}

// PreparePollMultishot prepares a poll of fd for pollMask that stays armed:
// it completes, with CQEFMore, every time fd becomes ready, until it is
// removed or fails; its last completion lacks CQEFMore.
func (e *SubmissionQueueEntry) PreparePollMultishot(fd int, pollMask uint32) {
	e.PreparePollAdd(fd, pollMask)
	e.Len = pollAddMulti
}

// PreparePollRemove prepares the removal of the poll request whose UserData
// is userData. The poll completes with -ECANCELED, this request with 0 or
// -ENOENT.
func (e *SubmissionQueueEntry) PreparePollRemove(userData uint64) {
	e.prepare(OpPollRemove, -1, userData, 0, 0)
}

// PrepareCancel prepares the cancellation of the request whose UserData is
// userData (every such request with AsyncCancelAll, every request at all
// with AsyncCancelAny). The cancelled request completes with -ECANCELED,
// this one with 0 (or the number cancelled, with AsyncCancelAll) or
// -ENOENT. It is liburing's io_uring_prep_cancel64.
func (e *SubmissionQueueEntry) PrepareCancel(userData uint64, flags uint32) {
	e.prepare(OpAsyncCancel, -1, userData, 0, 0)
	e.OpcodeFlags = flags
}

// PrepareCancelFd prepares the cancellation of the request working on fd
// (every such request with AsyncCancelAll), for instance before closing a
// vhost-user connection.
func (e *SubmissionQueueEntry) PrepareCancelFd(fd int, flags uint32) {
	e.prepare(OpAsyncCancel, fd, 0, 0, 0)
	e.OpcodeFlags = flags | asyncCancelFd
}
