package inbox

import (
	"encoding/binary"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/uring"
)

// TestDoorbellWakesBlockedRead: a consumer blocked in read(2) on the
// doorbell wakes when a producer commits and flushes.
func TestDoorbellWakesBlockedRead(t *testing.T) {
	q := newInbox(t, Config{Slots: 8, MaxFrame: 1514})
	if err := unix.SetNonblock(q.Doorbell(), false); err != nil {
		t.Fatal(err)
	}
	if !q.Park() {
		t.Fatal("Park with an empty ring refused")
	}
	woke := make(chan uint64, 1)
	go func() {
		var b [8]byte
		if _, err := unix.Read(q.Doorbell(), b[:]); err != nil {
			t.Error(err)
		}
		woke <- binary.NativeEndian.Uint64(b[:])
	}()
	// Give the reader time to block; the test holds without it too.
	time.Sleep(20 * time.Millisecond)
	for i := range 3 {
		q.Put(pattern(64, byte(i)))
	}
	q.Flush()
	q.Flush()
	select {
	case v := <-woke:
		if v != 1 {
			t.Errorf("doorbell counter %d, want 1 (one ring per wake-up)", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("consumer not woken")
	}
	if _, ok := next(q); !ok {
		t.Error("woken to an empty ring")
	}
}

// TestDoorbellWakesUring: the reactor's way, a READ armed on its io_uring.
func TestDoorbellWakesUring(t *testing.T) {
	q := newInbox(t, Config{Slots: 8, MaxFrame: 1514})
	r, err := uring.New(4, uring.Options{})
	if err != nil {
		t.Fatalf("io_uring unavailable (the daemon needs it too): %v", err)
	}
	defer r.QueueExit()
	buf := new([8]byte)
	sqe := r.GetSQE()
	sqe.PrepareRead(q.Doorbell(), buf[:], 0)
	sqe.UserData = 7
	if !q.Park() {
		t.Fatal("Park with an empty ring refused")
	}
	go func() {
		q.Put(pattern(1514, 1))
		q.Flush()
	}()
	if _, err := r.SubmitAndWait(1); err != nil && !errors.Is(err, unix.EINTR) {
		t.Fatal(err)
	}
	cqes := make([]*uring.CompletionQueueEvent, 4)
	for r.PeekBatchCQE(cqes) == 0 {
		if _, err := r.SubmitAndWait(1); err != nil && !errors.Is(err, unix.EINTR) {
			t.Fatal(err)
		}
	}
	if c := cqes[0]; c.UserData != 7 || c.Res != 8 {
		t.Fatalf("completion %+v, want UserData 7, Res 8", *c)
	}
	r.CQAdvance(1)
	q.Unpark()
	if f, ok := next(q); !ok || len(f.Head) != 1514 {
		t.Error("frame missing after wake-up")
	}
}

// TestFlushQuietWhileAwake: a consumer that is not parked costs producers
// no doorbell write, and Park refuses while a frame waits.
func TestFlushQuietWhileAwake(t *testing.T) {
	q := newInbox(t, Config{Slots: 8, MaxFrame: 1514})
	q.Put(pattern(64, 0))
	q.Flush()
	var b [8]byte
	if _, err := unix.Read(q.Doorbell(), b[:]); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("doorbell rang for an awake consumer: %v", err)
	}
	if q.Park() {
		t.Fatal("Park accepted with a frame waiting")
	}
	q.Flush()
	if _, err := unix.Read(q.Doorbell(), b[:]); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("doorbell rang after a refused Park: %v", err)
	}
	next(q)
	q.Release()
	if !q.Park() {
		t.Fatal("Park refused on an empty ring")
	}
	q.Unpark()
	q.Put(pattern(64, 1))
	q.Flush()
	if _, err := unix.Read(q.Doorbell(), b[:]); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("doorbell rang after Unpark: %v", err)
	}
}

// TestCloseDoesNotRingReusedFd: after Close, a producer that still finds
// the consumer parked must not write to the old fd number, which the next
// eventfd is likely to reuse.
func TestCloseDoesNotRingReusedFd(t *testing.T) {
	q, err := New(Config{Slots: 8, MaxFrame: 1514})
	if err != nil {
		t.Fatal(err)
	}
	old := q.Doorbell()
	q.Park()
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	reused, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(reused)
	if reused != old {
		t.Logf("fd %d not reused (got %d); checking the new fd anyway", old, reused)
	}
	q.Flush()
	var b [8]byte
	if _, err := unix.Read(reused, b[:]); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("closed inbox wrote to fd %d: %v", reused, err)
	}
}

// TestCloseWhileProducing: Close races producers that put and ring; none
// may crash or block, and every frame after Close counts as DropClosed.
func TestCloseWhileProducing(t *testing.T) {
	q, err := New(Config{Slots: 64})
	if err != nil {
		t.Fatal(err)
	}
	frame := pattern(200, 0)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for range 20_000 {
				q.Put(frame)
				q.Flush()
			}
		})
	}
	wg.Go(func() {
		for !q.closed.Load() {
			for {
				if _, ok := next(q); !ok {
					break
				}
			}
			q.Release()
			q.Park()
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for q.tail.Load() < 32 {
		if time.Now().After(deadline) {
			t.Fatalf("producers stuck: tail %d, drops full %d", q.tail.Load(), q.Drops(DropFull))
		}
		runtime.Gosched()
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if q.Put(frame) || q.Drops(DropClosed) == 0 {
		t.Error("Put after Close not refused and counted")
	}
}
