package uring

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// PrepareRead prepares a read(2) of len(buf) bytes from fd at offset (0 for
// eventfds and sockets) into buf. The kernel borrows buf until the
// completion is reaped; see the package documentation.
func (e *SubmissionQueueEntry) PrepareRead(fd int, buf []byte, offset uint64) {
	p := unsafe.Pointer(unsafe.SliceData(buf))
	escape(p)
	e.prepare(OpRead, fd, uint64(uintptr(p)), uint32(len(buf)), offset)
}

// PrepareWrite prepares a write(2) of buf to fd at offset (0 for eventfds and
// sockets). The kernel borrows buf until the completion is reaped.
func (e *SubmissionQueueEntry) PrepareWrite(fd int, buf []byte, offset uint64) {
	p := unsafe.Pointer(unsafe.SliceData(buf))
	escape(p)
	e.prepare(OpWrite, fd, uint64(uintptr(p)), uint32(len(buf)), offset)
}

// PrepareTimeout prepares a timer that completes with -ETIME when ts has
// passed (relative, unless flags has TimeoutAbs), or with 0 once count other
// requests have completed, if count is not zero. The kernel reads ts when
// the entry is submitted; keep it until then.
func (e *SubmissionQueueEntry) PrepareTimeout(ts *Timespec, count, flags uint32) {
	p := unsafe.Pointer(ts)
	escape(p)
	e.prepare(OpTimeout, -1, uint64(uintptr(p)), 1, uint64(count))
	e.OpcodeFlags = flags
}

// PrepareRecvMsg prepares a recvmsg(2) on the socket fd with flags
// (unix.MSG_CMSG_CLOEXEC, ...). The kernel borrows msg, its iovecs, their
// buffers and its control buffer until the completion is reaped; it updates
// msg's Controllen and Flags like recvmsg(2).
func (e *SubmissionQueueEntry) PrepareRecvMsg(fd int, msg *unix.Msghdr, flags uint32) {
	p := unsafe.Pointer(msg)
	escape(p)
	e.prepare(OpRecvmsg, fd, uint64(uintptr(p)), 1, 0)
	e.OpcodeFlags = flags
}

// PrepareSendMsg prepares a sendmsg(2) on the socket fd with flags
// (unix.MSG_NOSIGNAL, ...). The kernel borrows msg, its iovecs, their
// buffers and its control buffer until the completion is reaped.
func (e *SubmissionQueueEntry) PrepareSendMsg(fd int, msg *unix.Msghdr, flags uint32) {
	p := unsafe.Pointer(msg)
	escape(p)
	e.prepare(OpSendmsg, fd, uint64(uintptr(p)), 1, 0)
	e.OpcodeFlags = flags
}

// escapeSink is never written. Storing a pointer in it under a condition
// the compiler cannot decide makes escape analysis move the pointee to the
// heap, where Go never moves objects, since the kernel uses the address
// after the Prepare call returns. Callers that keep their buffers in
// long-lived heap structs, as they should, pay nothing. (reflect uses the
// same device.)
var escapeSink struct {
	enabled bool
	p       unsafe.Pointer
}

func escape(p unsafe.Pointer) {
	if escapeSink.enabled {
		escapeSink.p = p
	}
}
