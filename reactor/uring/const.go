package uring

// Flags for Options.Flags (IORING_SETUP_*). Flags not listed here are
// refused by New.
const (
	// SetupClamp clamps entries and CQEntries to the kernel's maximum instead
	// of failing.
	SetupClamp uint32 = 1 << 4
	// SetupSubmitAll keeps submitting a batch when one entry fails to prepare.
	SetupSubmitAll uint32 = 1 << 7
	// SetupCoopTaskrun lets the kernel run completion work when the task
	// enters the kernel instead of interrupting it.
	SetupCoopTaskrun uint32 = 1 << 8
	// SetupTaskrunFlag has the kernel flag pending completion work in the SQ
	// ring; New adds it with SetupCoopTaskrun or SetupDeferTaskrun so that the
	// Peek methods know when to enter the kernel.
	SetupTaskrunFlag uint32 = 1 << 9
	// SetupSingleIssuer promises that only the creating thread submits.
	SetupSingleIssuer uint32 = 1 << 12
	// SetupDeferTaskrun defers completion work until the ring's thread waits
	// for completions. It requires SetupSingleIssuer.
	SetupDeferTaskrun uint32 = 1 << 13

	setupCQSize uint32 = 1 << 3

	supportedSetupFlags = SetupClamp | SetupSubmitAll | SetupCoopTaskrun |
		SetupTaskrunFlag | SetupSingleIssuer | SetupDeferTaskrun
)

// Feature bits reported by the kernel (IORING_FEAT_*); see Ring.Features.
const (
	// FeatSingleMMap: the SQ and CQ rings share one mapping.
	FeatSingleMMap uint32 = 1 << 0
	// FeatNoDrop: completions that do not fit in the CQ ring are kept, not dropped.
	FeatNoDrop uint32 = 1 << 1
	// FeatSubmitStable: data for a request is copied at submission.
	FeatSubmitStable uint32 = 1 << 2
	// FeatFastPoll: reads and writes on pollable files wait by internal poll.
	FeatFastPoll uint32 = 1 << 5
	// FeatPoll32Bits: poll masks are 32 bits wide (EPOLLEXCLUSIVE and friends).
	FeatPoll32Bits uint32 = 1 << 6
	// FeatExtArg: io_uring_enter takes a timeout (IORING_ENTER_EXT_ARG).
	FeatExtArg uint32 = 1 << 8
	// FeatCQESkip: SqeCQESkipSuccess is supported.
	FeatCQESkip uint32 = 1 << 11
)

// Operation codes (IORING_OP_*) of the requests this binding prepares.
const (
	OpNop         uint8 = 0
	OpPollAdd     uint8 = 6
	OpPollRemove  uint8 = 7
	OpSendmsg     uint8 = 9
	OpRecvmsg     uint8 = 10
	OpTimeout     uint8 = 11
	OpAsyncCancel uint8 = 14
	OpRead        uint8 = 22
	OpWrite       uint8 = 23
)

// Flags for SubmissionQueueEntry.Flags (IOSQE_*).
const (
	// SqeIODrain starts the entry only after all earlier ones completed.
	SqeIODrain uint8 = 1 << 1
	// SqeIOLink starts the next entry only after this one succeeded.
	SqeIOLink uint8 = 1 << 2
	// SqeIOHardlink starts the next entry after this one, whatever its result.
	SqeIOHardlink uint8 = 1 << 3
	// SqeAsync always runs the entry from a kernel worker.
	SqeAsync uint8 = 1 << 4
	// SqeCQESkipSuccess posts no completion when the entry succeeds (needs
	// FeatCQESkip); handy for batches of eventfd writes.
	SqeCQESkipSuccess uint8 = 1 << 6
)

// CQEFMore in CompletionQueueEvent.Flags (IORING_CQE_F_MORE) says that a
// multishot request stays armed and will post more completions. A completion
// without it is the request's last.
const CQEFMore uint32 = 1 << 1

// Flags for PrepareTimeout (IORING_TIMEOUT_*).
const (
	// TimeoutAbs: the Timespec is an absolute time, not relative.
	TimeoutAbs uint32 = 1 << 0
	// TimeoutBoottime measures with CLOCK_BOOTTIME instead of CLOCK_MONOTONIC.
	TimeoutBoottime uint32 = 1 << 2
	// TimeoutRealtime measures with CLOCK_REALTIME instead of CLOCK_MONOTONIC.
	TimeoutRealtime uint32 = 1 << 3
	// TimeoutETimeSuccess completes an expired timeout with Res 0, not -ETIME.
	TimeoutETimeSuccess uint32 = 1 << 5
	// TimeoutMultishot re-arms the timeout after each expiry (count times, or
	// forever with count 0); each completion but the last carries CQEFMore.
	TimeoutMultishot uint32 = 1 << 6
)

// Flags for PrepareCancel and PrepareCancelFd (IORING_ASYNC_CANCEL_*).
const (
	// AsyncCancelAll cancels every matching request, not only the first.
	AsyncCancelAll uint32 = 1 << 0
	// AsyncCancelAny matches every request, whatever its user data or fd.
	AsyncCancelAny uint32 = 1 << 2

	asyncCancelFd uint32 = 1 << 1
)

const (
	pollAddMulti uint32 = 1 << 0

	enterGetEvents uint32 = 1 << 0
	enterExtArg    uint32 = 1 << 3

	sqCQOverflow uint32 = 1 << 1
	sqTaskrun    uint32 = 1 << 2

	registerEventFd   uint32 = 4
	unregisterEventFd uint32 = 5

	offSQRing int64 = 0
	offCQRing int64 = 0x8000000
	offSQEs   int64 = 0x10000000

	// udataTimeout tags the UserData of the TIMEOUT entries that
	// SubmitAndWaitTimeout queues on kernels without FeatExtArg (the low 32
	// bits count the waits); their completions are never returned.
	udataTimeout uint64 = 0xffffffff << 32
)
