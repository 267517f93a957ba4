package uring

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Ring is one io_uring instance: its file descriptor, the shared SQ and CQ
// rings and the SQE array, all mapped into this process. Create it with New
// (or CreateRing), release it with Close. A Ring is owned by one goroutine;
// see the package documentation.
type Ring struct {
	fd       int
	flags    uint32
	features uint32

	sq submissionQueue
	cq completionQueue

	// The mappings, kept for munmap; cqMem is nil when the CQ ring shares
	// ringMem (FeatSingleMMap).
	ringMem []byte
	cqMem   []byte
	sqeMem  []byte

	// waitTS and waitArg are SubmitAndWaitTimeout's arguments to the kernel.
	// They live in the Ring, which is on the heap, so that the kernel reads
	// stable memory and passing them does not allocate.
	waitTS       Timespec
	waitArg      getEventsArg
	waitDeadline time.Time
	// waitGen numbers the TIMEOUT entries of SubmitAndWaitTimeout on
	// kernels without FeatExtArg.
	waitGen uint32
}

// submissionQueue points into the mapped SQ ring.
type submissionQueue struct {
	head  *uint32 // advanced by the kernel as it consumes entries
	tail  *uint32 // published by flushSQ
	flags *uint32 // IORING_SQ_* flags set by the kernel

	mask    uint32
	entries uint32
	sqes    []SubmissionQueueEntry

	// sqeTail counts entries handed out by GetSQE; sqeHead is the tail last
	// published to the kernel.
	sqeHead uint32
	sqeTail uint32
}

// completionQueue points into the mapped CQ ring.
type completionQueue struct {
	head *uint32 // advanced by CQAdvance
	tail *uint32 // advanced by the kernel as it posts completions

	mask uint32
	cqes []CompletionQueueEvent
}

// Options configures New.
type Options struct {
	// Flags are Setup* flags. SetupTaskrunFlag is added to SetupCoopTaskrun
	// and SetupDeferTaskrun.
	Flags uint32
	// CQEntries sizes the CQ ring (IORING_SETUP_CQSIZE); it must be at least
	// the number of SQ entries. Zero means the kernel default, twice the SQ
	// entries.
	CQEntries uint32
}

// New creates a ring with room for entries submission queue entries (rounded
// up to a power of two by the kernel). With SetupSingleIssuer or
// SetupDeferTaskrun, call it on the locked OS thread that will drive the ring.
func New(entries uint32, opts Options) (*Ring, error) {
	return newRing(entries, opts, 0)
}

// CreateRing creates a ring with default options, like giouring.CreateRing.
func CreateRing(entries uint32) (*Ring, error) {
	return New(entries, Options{})
}

// newRing is New, hiding the feature bits in ignore so that tests can drive
// the code paths of older kernels (separate CQ mapping, timeout entries).
func newRing(entries uint32, opts Options, ignore uint32) (*Ring, error) {
	if extra := opts.Flags &^ supportedSetupFlags; extra != 0 {
		return nil, fmt.Errorf("io_uring setup: unsupported setup flags %#x", extra)
	}
	p := &params{flags: opts.Flags}
	if p.flags&(SetupCoopTaskrun|SetupDeferTaskrun) != 0 {
		p.flags |= SetupTaskrunFlag
	}
	if opts.CQEntries != 0 {
		p.flags |= setupCQSize
		p.cqEntries = opts.CQEntries
	}
	fd, err := setup(entries, p)
	if err != nil {
		return nil, fmt.Errorf("io_uring setup (%d entries, flags %#x): %w", entries, p.flags, err)
	}
	r := &Ring{fd: fd, flags: p.flags, features: p.features &^ ignore}
	if err := r.mapRings(p); err != nil {
		return nil, errors.Join(err, closeFd(fd))
	}
	return r, nil
}

// Features returns the kernel's Feat* bits for this ring.
func (r *Ring) Features() uint32 {
	return r.features
}

// Close unmaps the rings and closes the ring's file descriptor. The kernel
// then cancels whatever is still in flight, asynchronously: cancel and reap
// requests first if their buffers are about to be reused. Closing twice is a
// no-op; any other use after Close panics.
func (r *Ring) Close() error {
	if r.fd < 0 {
		return nil
	}
	err := errors.Join(r.unmapRings(), closeFd(r.fd))
	r.fd = -1
	r.sq = submissionQueue{}
	r.cq = completionQueue{}
	return err
}

// QueueExit is Close without the error, as in liburing and giouring.
func (r *Ring) QueueExit() {
	_ = r.Close()
}

func closeFd(fd int) error {
	if err := unix.Close(fd); err != nil {
		return fmt.Errorf("close io_uring fd %d: %w", fd, err)
	}
	return nil
}
