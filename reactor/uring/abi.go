package uring

import "time"

// SubmissionQueueEntry is the kernel's struct io_uring_sqe: one request in
// the SQ ring, obtained from Ring.GetSQE and filled by a Prepare method.
// Prepare methods reset every field, so set UserData and Flags after them.
// The entry belongs to the kernel once submitted; do not keep the pointer.
type SubmissionQueueEntry struct {
	OpCode uint8
	Flags  uint8
	IoPrio uint16
	Fd     int32
	// Off is the file offset, or addr2 / the timeout count.
	Off uint64
	// Addr is the buffer, Msghdr or Timespec address, or the user data a
	// cancel or poll remove targets.
	Addr uint64
	Len  uint32
	// OpcodeFlags is the per-operation flags word (poll32_events,
	// msg_flags, timeout_flags, cancel_flags, ...).
	OpcodeFlags uint32
	// UserData comes back unchanged in the request's completions. On
	// kernels without FeatExtArg, values whose top 32 bits are all ones are
	// reserved.
	UserData uint64
	// BufIG is buf_index or buf_group.
	BufIG       uint16
	Personality uint16
	// SpliceFdIn is splice_fd_in, file_index or addr_len.
	SpliceFdIn int32
	Addr3      uint64
	_          uint64
}

// CompletionQueueEvent is the kernel's struct io_uring_cqe: the result of a
// request. Res is what the matching system call would return, or -errno.
type CompletionQueueEvent struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// Timespec is the kernel's struct __kernel_timespec (64-bit fields on every
// architecture), used by PrepareTimeout and SubmitAndWaitTimeout.
type Timespec struct {
	Sec  int64
	Nsec int64
}

// NsecToTimespec returns the Timespec for a duration of ns nanoseconds.
func NsecToTimespec(ns int64) Timespec {
	return Timespec{Sec: ns / int64(time.Second), Nsec: ns % int64(time.Second)}
}

func (ts Timespec) duration() time.Duration {
	return time.Duration(ts.Sec)*time.Second + time.Duration(ts.Nsec)
}

// params is struct io_uring_params; blank fields are ones the binding
// leaves zero or does not read.
type params struct {
	sqEntries uint32
	cqEntries uint32
	flags     uint32
	_         uint32 // sq_thread_cpu
	_         uint32 // sq_thread_idle
	features  uint32
	_         uint32 // wq_fd
	_         [3]uint32
	sqOff     sqRingOffsets
	cqOff     cqRingOffsets
}

// sqRingOffsets is struct io_sqring_offsets.
type sqRingOffsets struct {
	head        uint32
	tail        uint32
	ringMask    uint32
	ringEntries uint32
	flags       uint32
	_           uint32 // dropped
	array       uint32
	_           uint32
	_           uint64 // user_addr
}

// cqRingOffsets is struct io_cqring_offsets.
type cqRingOffsets struct {
	head        uint32
	tail        uint32
	ringMask    uint32
	ringEntries uint32
	_           uint32 // overflow
	cqes        uint32
	_           uint32 // flags
	_           uint32
	_           uint64 // user_addr
}

// getEventsArg is struct io_uring_getevents_arg (IORING_ENTER_EXT_ARG); the
// binding passes no signal mask and no minimum wait.
type getEventsArg struct {
	_  uint64 // sigmask
	_  uint32 // sigmask_sz
	_  uint32 // min_wait_usec
	ts uint64
}
