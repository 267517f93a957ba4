package uring

import (
	"errors"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func TestNopRoundTrip(t *testing.T) {
	forEachConfig(t, 8, func(t *testing.T, r *Ring) {
		for i := range uint64(3) {
			sqe := getSQE(t, r)
			sqe.PrepareNop()
			sqe.UserData = 42 + i
			if n, err := r.SubmitAndWait(1); err != nil || n != 1 {
				t.Fatalf("SubmitAndWait = %d, %v; want 1, nil", n, err)
			}
			if got := waitOne(t, r); got.UserData != 42+i || got.Res != 0 {
				t.Fatalf("completion %+v; want UserData %d, Res 0", got, 42+i)
			}
		}
		if cqe, err := r.PeekCQE(); !errors.Is(err, unix.EAGAIN) {
			t.Fatalf("PeekCQE on an empty ring = %+v, %v; want EAGAIN", cqe, err)
		}
	})
}

func TestNewRejects(t *testing.T) {
	if _, err := New(8, Options{Flags: 1 << 1}); err == nil { // IORING_SETUP_SQPOLL
		t.Error("New accepted an unsupported flag")
	}
	if _, err := New(0, Options{}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("New(0) = %v; want EINVAL", err)
	}
	if _, err := New(8, Options{Flags: SetupDeferTaskrun}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("DEFER_TASKRUN without SINGLE_ISSUER = %v; want EINVAL", err)
	}
}

func TestFeatures(t *testing.T) {
	r := newTestRing(t, 8, Options{}, 0)
	for _, f := range []uint32{FeatSingleMMap, FeatNoDrop, FeatExtArg, FeatFastPoll} {
		if r.Features()&f == 0 {
			t.Errorf("feature %#x missing on this kernel", f)
		}
	}
	if r.sq.entries != 8 || uint32(len(r.cq.cqes)) != 16 {
		t.Errorf("ring sizes %d/%d; want 8/16", r.sq.entries, len(r.cq.cqes))
	}
}

// TestSingleIssuerOtherThread checks that submitting from a thread other
// than the creator's is reported, and leaves the entry queued for its owner.
func TestSingleIssuerOtherThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newTestRing(t, 8, Options{Flags: SetupSingleIssuer | SetupDeferTaskrun}, 0)
	sqe := getSQE(t, r)
	sqe.PrepareNop()
	sqe.UserData = 7

	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		_, err := r.Submit()
		done <- err
	}()
	if err := <-done; !errors.Is(err, unix.EEXIST) {
		t.Fatalf("Submit from another thread = %v; want EEXIST", err)
	}
	if _, err := r.SubmitAndWait(1); err != nil {
		t.Fatalf("SubmitAndWait from the owner: %v", err)
	}
	if got := waitOne(t, r); got.UserData != 7 {
		t.Fatalf("completion %+v; want UserData 7", got)
	}
}

func TestRegisterEventFd(t *testing.T) {
	r := newTestRing(t, 8, Options{}, 0)
	efd := newEventfd(t, unix.EFD_NONBLOCK)
	if err := r.RegisterEventFd(efd); err != nil {
		t.Fatal(err)
	}
	getSQE(t, r).PrepareNop()
	if _, err := r.SubmitAndWait(1); err != nil {
		t.Fatal(err)
	}
	waitOne(t, r)
	if n := eventfdTake(t, efd); n == 0 {
		t.Fatal("registered eventfd not signalled by a completion")
	}
	if err := r.UnregisterEventFd(); err != nil {
		t.Fatal(err)
	}
	getSQE(t, r).PrepareNop()
	if _, err := r.SubmitAndWait(1); err != nil {
		t.Fatal(err)
	}
	waitOne(t, r)
	if n := eventfdTake(t, efd); n != 0 {
		t.Fatalf("unregistered eventfd signalled %d times", n)
	}
	if err := r.UnregisterEventFd(); !errors.Is(err, unix.ENXIO) {
		t.Fatalf("second UnregisterEventFd = %v; want ENXIO", err)
	}
}

// TestCloseReleases checks that Close gives back the ring's file descriptor
// and mappings, also with requests in flight, and that a second Close is a
// no-op.
func TestCloseReleases(t *testing.T) {
	efd := newEventfd(t, 0)
	for _, c := range ringConfigs {
		t.Run(c.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			fds, maps := countFds(t), countRingMappings(t)
			r, err := newRing(64, c.opts, c.ignore)
			if err != nil {
				t.Fatal(err)
			}
			if got := countFds(t); got != fds+1 {
				t.Errorf("open fds with a ring = %d; want %d", got, fds+1)
			}
			want := maps + 3 // SQ ring, CQ ring, SQEs
			if c.ignore&FeatSingleMMap == 0 {
				want = maps + 2 // the rings share one mapping
			}
			if got := countRingMappings(t); got != want {
				t.Errorf("io_uring mappings with a ring = %d; want %d", got, want)
			}
			r.GetSQE().PreparePollAdd(efd, unix.POLLIN)
			if _, err := r.Submit(); err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := r.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if got := countFds(t); got != fds {
				t.Errorf("open fds after Close = %d; want %d", got, fds)
			}
			if got := countRingMappings(t); got != maps {
				t.Errorf("io_uring mappings after Close = %d; want %d", got, maps)
			}
		})
	}
}
