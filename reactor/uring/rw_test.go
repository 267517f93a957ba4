package uring

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// eventfdBuf is an 8-byte eventfd value kept on the heap, as a reactor keeps
// one per kick or call fd.
type eventfdBuf struct{ b [8]byte }

// TestEventfdRead checks that a READ of an eventfd waits until the eventfd
// is written, also when the eventfd is non-blocking (as eventfds a VMM
// passes usually are): the kernel then polls instead of failing with EAGAIN.
func TestEventfdRead(t *testing.T) {
	forEachConfig(t, 8, func(t *testing.T, r *Ring) {
		for _, mode := range []struct {
			name  string
			flags int
		}{{"blocking", 0}, {"nonblocking", unix.EFD_NONBLOCK}} {
			efd := newEventfd(t, mode.flags)
			buf := new(eventfdBuf)
			sqe := getSQE(t, r)
			sqe.PrepareRead(efd, buf.b[:], 0)
			sqe.UserData = 1
			submit(t, r)
			expectNone(t, r, 20*time.Millisecond)

			go func() {
				time.Sleep(10 * time.Millisecond)
				var b [8]byte
				binary.NativeEndian.PutUint64(b[:], 5)
				unix.Write(efd, b[:])
			}()
			got := waitOne(t, r)
			if got.UserData != 1 || got.Res != 8 {
				t.Fatalf("%s: completion %+v; want UserData 1, Res 8", mode.name, got)
			}
			if v := binary.NativeEndian.Uint64(buf.b[:]); v != 5 {
				t.Fatalf("%s: read %d; want 5", mode.name, v)
			}
		}
	})
}

func TestEventfdWrite(t *testing.T) {
	forEachConfig(t, 8, func(t *testing.T, r *Ring) {
		efd := newEventfd(t, unix.EFD_NONBLOCK)
		buf := new(eventfdBuf)
		binary.NativeEndian.PutUint64(buf.b[:], 3)
		sqe := getSQE(t, r)
		sqe.PrepareWrite(efd, buf.b[:], 0)
		sqe.UserData = 9
		if _, err := r.SubmitAndWait(1); err != nil {
			t.Fatal(err)
		}
		if got := waitOne(t, r); got.UserData != 9 || got.Res != 8 {
			t.Fatalf("completion %+v; want UserData 9, Res 8", got)
		}
		if v := eventfdTake(t, efd); v != 3 {
			t.Fatalf("eventfd counter %d; want 3", v)
		}
	})
}

// TestBatchLargerThanRing queues 200 eventfd writes (a reactor signalling
// call fds) on a 64-entry ring: when GetSQE returns nil the caller submits,
// reaps and retries.
func TestBatchLargerThanRing(t *testing.T) {
	const total = 200
	forEachConfig(t, 64, func(t *testing.T, r *Ring) {
		efd := newEventfd(t, unix.EFD_NONBLOCK)
		one := new(eventfdBuf)
		binary.NativeEndian.PutUint64(one.b[:], 1)
		cqes := make([]*CompletionQueueEvent, 32)
		seen := make([]bool, total)
		completed := 0
		reap := func() {
			n := r.PeekBatchCQE(cqes)
			for _, c := range cqes[:n] {
				if c.Res != 8 || c.UserData >= total || seen[c.UserData] {
					t.Fatalf("bad completion %+v", *c)
				}
				seen[c.UserData] = true
			}
			r.CQAdvance(n)
			completed += int(n)
		}
		fulls := 0
		for i := range uint64(total) {
			sqe := r.GetSQE()
			if sqe == nil {
				fulls++
				submit(t, r)
				reap()
				sqe = getSQE(t, r)
			}
			sqe.PrepareWrite(efd, one.b[:], 0)
			sqe.UserData = i
		}
		if fulls != 3 {
			t.Errorf("SQ ring full %d times; want 3", fulls)
		}
		for completed < total {
			if _, err := r.SubmitAndWait(1); err != nil {
				t.Fatal(err)
			}
			reap()
		}
		if v := eventfdTake(t, efd); v != total {
			t.Fatalf("eventfd counter %d; want %d", v, total)
		}
	})
}

// TestCQOverflow posts three times as many completions as the CQ ring holds
// before reaping any: none may be lost.
func TestCQOverflow(t *testing.T) {
	r := newTestRing(t, 8, Options{CQEntries: 8}, 0)
	const total = 24
	for i := range uint64(total) {
		sqe := r.GetSQE()
		if sqe == nil {
			if _, err := r.Submit(); err != nil && !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.EAGAIN) {
				t.Fatal(err)
			}
			sqe = getSQE(t, r)
		}
		sqe.PrepareNop()
		sqe.UserData = i
	}
	submit(t, r)
	if !r.CQHasOverflow() {
		t.Fatal("CQ ring did not overflow")
	}
	cqes := make([]*CompletionQueueEvent, 5)
	var next uint64
	for next < total {
		n := r.PeekBatchCQE(cqes)
		if n == 0 {
			t.Fatalf("no completion after %d of %d", next, total)
		}
		for _, c := range cqes[:n] {
			if c.UserData != next {
				t.Fatalf("completion %d has UserData %d", next, c.UserData)
			}
			next++
		}
		r.CQAdvance(n)
	}
	if r.CQHasOverflow() {
		t.Fatal("overflow flag still set after reaping everything")
	}
}
