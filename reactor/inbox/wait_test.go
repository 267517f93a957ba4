package inbox

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// TestWaitForRoom: a producer waiting on a full inbox is woken, through
// its own inbox's doorbell, when the consumer releases; only once.
func TestWaitForRoom(t *testing.T) {
	full, err := New(Config{Slots: 4, MaxFrame: 2048})
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	own, err := New(Config{Slots: 4, MaxFrame: 2048})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	frame := pattern(100, 1)
	for full.Put(frame) {
	}
	if full.Room(len(frame)) {
		t.Fatal("full inbox reports room")
	}
	for range 2 {
		if !full.WaitForRoom(own) {
			t.Fatal("waiter not registered")
		}
	}
	if got := full.waiting.Load(); got != 1 {
		t.Fatalf("registering twice counts %d waiters", got)
	}
	if !own.Park() {
		t.Fatal("own inbox not parked")
	}
	for {
		if _, ok := next(full); !ok {
			break
		}
	}
	full.Release()
	if !full.Room(len(frame)) {
		t.Fatal("no room after release")
	}
	var b [8]byte
	if _, err := unix.Read(own.Doorbell(), b[:]); err != nil {
		t.Fatalf("waiter's doorbell not rung: %v", err)
	}
	full.Release()
	if _, err := unix.Read(own.Doorbell(), b[:]); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("waiter woken twice: %v", err)
	}
}

// TestWaitForRoomLimit: more waiters than places are refused.
func TestWaitForRoomLimit(t *testing.T) {
	q, err := New(Config{Slots: 4, MaxFrame: 2048})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for i := range maxWaiters + 1 {
		w, err := New(Config{Slots: 2, MaxFrame: 2048})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if got := q.WaitForRoom(w); got != (i < maxWaiters) {
			t.Fatalf("waiter %d registered=%v", i, got)
		}
	}
}
