package uring

import (
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestTimeoutFires(t *testing.T) {
	forEachConfig(t, 8, func(t *testing.T, r *Ring) {
		ts := new(Timespec)
		*ts = NsecToTimespec(int64(20 * time.Millisecond))
		sqe := getSQE(t, r)
		sqe.PrepareTimeout(ts, 0, 0)
		sqe.UserData = 77
		start := time.Now()
		if _, err := r.SubmitAndWait(1); err != nil {
			t.Fatal(err)
		}
		got := waitOne(t, r)
		if elapsed := time.Since(start); elapsed < 20*time.Millisecond {
			t.Fatalf("timeout fired after %v; want at least 20ms", elapsed)
		}
		if got.UserData != 77 || got.Res != -int32(unix.ETIME) {
			t.Fatalf("completion %+v; want UserData 77, -ETIME", got)
		}
	})
}

func TestTimeoutCount(t *testing.T) {
	forEachConfig(t, 8, func(t *testing.T, r *Ring) {
		ts := new(Timespec)
		*ts = NsecToTimespec(int64(10 * time.Second))
		sqe := getSQE(t, r)
		sqe.PrepareTimeout(ts, 2, 0)
		sqe.UserData = 1
		for range 2 {
			getSQE(t, r).PrepareNop()
		}
		if _, err := r.SubmitAndWait(3); err != nil {
			t.Fatal(err)
		}
		var timeout *CompletionQueueEvent
		cqes := make([]*CompletionQueueEvent, 4)
		n := r.PeekBatchCQE(cqes)
		for _, c := range cqes[:n] {
			if c.UserData == 1 {
				timeout = c
			}
		}
		if n != 3 || timeout == nil || timeout.Res != 0 {
			t.Fatalf("%d completions, timeout %+v; want 3 with the timeout at Res 0", n, timeout)
		}
		r.CQAdvance(n)
	})
}

func TestTimeoutMultishot(t *testing.T) {
	forEachConfig(t, 8, func(t *testing.T, r *Ring) {
		ts := new(Timespec)
		*ts = NsecToTimespec(int64(5 * time.Millisecond))
		sqe := getSQE(t, r)
		sqe.PrepareTimeout(ts, 3, TimeoutMultishot)
		sqe.UserData = 2
		submit(t, r)
		for i := range 3 {
			got := waitOne(t, r)
			if more := got.Flags&CQEFMore != 0; got.Res != -int32(unix.ETIME) || more != (i < 2) {
				t.Fatalf("tick %d: completion %+v", i, got)
			}
		}
	})
}

func TestSubmitAndWaitTimeoutExpires(t *testing.T) {
	forEachConfig(t, 8, func(t *testing.T, r *Ring) {
		ts := NsecToTimespec(int64(30 * time.Millisecond))
		start := time.Now()
		n, err := r.SubmitAndWaitTimeout(1, &ts)
		elapsed := time.Since(start)
		if n != 0 || !errors.Is(err, unix.ETIME) {
			t.Fatalf("SubmitAndWaitTimeout = %d, %v; want 0, ETIME", n, err)
		}
		if elapsed < 30*time.Millisecond || elapsed > time.Second {
			t.Fatalf("waited %v; want about 30ms", elapsed)
		}
		if r.CQReady() != 0 {
			t.Fatalf("%d completions left behind", r.CQReady())
		}

		// Submitting and timing out in one call is also ETIME.
		efd := newEventfd(t, unix.EFD_NONBLOCK)
		sqe := getSQE(t, r)
		sqe.PreparePollAdd(efd, unix.POLLIN)
		sqe.UserData = 1
		if n, err := r.SubmitAndWaitTimeout(1, &ts); n != 1 || !errors.Is(err, unix.ETIME) {
			t.Fatalf("SubmitAndWaitTimeout with a pending poll = %d, %v; want 1, ETIME", n, err)
		}
		if _, err := r.PeekCQE(); !errors.Is(err, unix.EAGAIN) {
			t.Fatalf("PeekCQE = %v; want EAGAIN", err)
		}
	})
}

func TestSubmitAndWaitTimeoutCompletes(t *testing.T) {
	forEachConfig(t, 8, func(t *testing.T, r *Ring) {
		efd := newEventfd(t, unix.EFD_NONBLOCK)
		sqe := getSQE(t, r)
		sqe.PreparePollAdd(efd, unix.POLLIN)
		sqe.UserData = 8
		go func() {
			time.Sleep(10 * time.Millisecond)
			eventfdAdd(t, efd, 1)
		}()
		ts := NsecToTimespec(int64(5 * time.Second))
		start := time.Now()
		if _, err := r.SubmitAndWaitTimeout(1, &ts); err != nil {
			t.Fatalf("SubmitAndWaitTimeout: %v", err)
		}
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Fatalf("waited %v for a completion due after 10ms", elapsed)
		}
		if got := waitOne(t, r); got.UserData != 8 {
			t.Fatalf("completion %+v; want UserData 8", got)
		}

		// Whatever the wait left in the kernel must not end the next wait
		// early, nor show up as a completion.
		timer := new(Timespec)
		*timer = NsecToTimespec(int64(30 * time.Millisecond))
		sqe = getSQE(t, r)
		sqe.PrepareTimeout(timer, 0, 0)
		sqe.UserData = 9
		start = time.Now()
		if _, err := r.SubmitAndWait(1); err != nil {
			t.Fatal(err)
		}
		if elapsed := time.Since(start); elapsed < 30*time.Millisecond {
			t.Fatalf("SubmitAndWait returned after %v, before the 30ms timer", elapsed)
		}
		if got := waitOne(t, r); got.UserData != 9 {
			t.Fatalf("completion %+v; want the timer", got)
		}
	})
}

// signalThread sends SIGURG (harmless to Go) to the calling goroutine's OS
// thread every interval until the returned stop is called.
func signalThread(interval time.Duration) (stop func()) {
	pid, tid := unix.Getpid(), unix.Gettid()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				unix.Tgkill(pid, tid, unix.SIGURG)
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// TestEnterInterrupted checks that signals make io_uring_enter fail with
// EINTR, so that the retry tests below exercise something.
func TestEnterInterrupted(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newTestRing(t, 8, Options{}, 0)
	stop := signalThread(time.Millisecond)
	defer stop()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		r.waitTS = NsecToTimespec(int64(50 * time.Millisecond))
		if _, errno := r.enter(0, 1, enterGetEvents, true); errno == unix.EINTR {
			return
		}
	}
	t.Fatal("no EINTR from io_uring_enter under signals")
}

// TestWaitUnderSignals checks that waits are retried after EINTR, and that a
// wait with a timeout still ends on time although signals keep coming.
func TestWaitUnderSignals(t *testing.T) {
	forEachConfig(t, 8, func(t *testing.T, r *Ring) {
		stop := signalThread(time.Millisecond)
		defer stop()

		ts := NsecToTimespec(int64(100 * time.Millisecond))
		start := time.Now()
		if _, err := r.SubmitAndWaitTimeout(1, &ts); !errors.Is(err, unix.ETIME) {
			t.Fatalf("SubmitAndWaitTimeout = %v; want ETIME", err)
		}
		if elapsed := time.Since(start); elapsed < 100*time.Millisecond || elapsed > 2*time.Second {
			t.Fatalf("timed out after %v; want about 100ms", elapsed)
		}

		timer := new(Timespec)
		*timer = NsecToTimespec(int64(50 * time.Millisecond))
		sqe := getSQE(t, r)
		sqe.PrepareTimeout(timer, 0, 0)
		sqe.UserData = 4
		start = time.Now()
		if _, err := r.SubmitAndWait(1); err != nil {
			t.Fatalf("SubmitAndWait: %v", err)
		}
		if elapsed := time.Since(start); elapsed < 50*time.Millisecond {
			t.Fatalf("SubmitAndWait returned after %v, before the 50ms timer", elapsed)
		}
		if got := waitOne(t, r); got.UserData != 4 {
			t.Fatalf("completion %+v; want the timer", got)
		}

		sqe = getSQE(t, r)
		sqe.PrepareTimeout(timer, 0, 0)
		sqe.UserData = 5
		submit(t, r)
		start = time.Now()
		if got := waitOne(t, r); got.UserData != 5 || time.Since(start) < 40*time.Millisecond {
			t.Fatalf("WaitCQE = %+v after %v; want the timer after about 50ms", got, time.Since(start))
		}
	})
}
