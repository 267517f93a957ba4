//go:build !race

package inbox

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/eventfd"
)

// These tests run without -race on purpose: the race detector makes every
// store sequentially consistent and hides the store-buffering reordering
// that x86 does, which is what a missing fence in a park / wake handshake
// lets through. `make test` runs them in a separate non-race `go test`.

// handshakeRounds is how many wake-ups each stress test exercises.
const handshakeRounds = 200_000

// sleeper is a thread that parks and waits on a doorbell the way a
// reactor does, publishing when it sleeps so that a watchdog can tell a
// lost wake-up (asleep, no ring pending, work waiting) from a slow one.
type sleeper struct {
	// naps is odd while the thread is blocked on the doorbell: it is
	// incremented after Park succeeded and again after the wait ended,
	// before the ring is consumed.
	naps atomic.Uint64
}

// sleep blocks until bell is readable, then consumes the ring.
func (s *sleeper) sleep(t *testing.T, bell int) {
	s.naps.Add(1)
	fds := []unix.PollFd{{Fd: int32(bell), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			t.Errorf("poll doorbell: %v", err)
			break
		}
	}
	s.naps.Add(1)
	var b [8]byte
	_, _ = unix.Read(bell, b[:])
}

// asleep reports whether the thread is blocked on the doorbell, and stayed
// so while check ran: check's observations were made while it slept.
func (s *sleeper) asleep(check func() bool) bool {
	n := s.naps.Load()
	if n&1 == 0 {
		return false
	}
	ok := check()
	return ok && s.naps.Load() == n
}

// rung reports whether a ring is pending on bell, without consuming it.
func rung(t *testing.T, bell int) bool {
	fds := []unix.PollFd{{Fd: int32(bell), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	if err != nil && err != unix.EINTR {
		t.Errorf("poll doorbell: %v", err)
	}
	return n > 0
}

// watch runs lost until stop is closed, every few microseconds; each time
// it reports true, it counts a lost wake-up and rings the bells to unstick
// the sleepers.
func watch(stop <-chan struct{}, lost func() bool, bells ...int) *atomic.Uint64 {
	var n atomic.Uint64
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if lost() {
				n.Add(1)
				for _, b := range bells {
					eventfd.Signal(b)
				}
			}
			time.Sleep(20 * time.Microsecond)
		}
	}()
	return &n
}

// TestCommitFlushWakesParkedConsumer: a producer commits and flushes one
// frame at a time and waits for its release; the consumer drains, parks
// and sleeps on its doorbell in a tight loop. A frame that the consumer
// did not see when it parked must have found it parked and rung: the test
// fails if the consumer is ever asleep, with no ring pending, while a
// flushed frame waits for it (it would wait for a later event).
func TestCommitFlushWakesParkedConsumer(t *testing.T) {
	q, err := New(Config{Slots: 64, MaxFrame: 2048})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	bell := q.Doorbell()
	var (
		consumer       sleeper
		flushed, taken atomic.Uint64
		wg             sync.WaitGroup
	)
	done := make(chan struct{})
	lost := watch(done, func() bool {
		// The counters first, the doorbell after: a frame counted as
		// flushed has had its ring sent, so a ring missing after the
		// count was read is a lost one, not one still to come.
		return consumer.asleep(func() bool {
			return flushed.Load() > taken.Load() && !rung(t, bell)
		})
	}, bell)
	defer close(done)

	wg.Add(2)
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		frame := pattern(64, 3)
		for i := range handshakeRounds {
			// A varying pause sweeps the commit across the
			// consumer's way from its release to its park.
			spin(i % 128)
			s, ok := q.Reserve(len(frame))
			if !ok {
				t.Error("reserve failed on an empty inbox")
				return
			}
			copy(s.Bytes(), frame)
			s.Commit()
			q.Flush()
			flushed.Add(1)
			for !q.Released(s.Pos()) {
			}
		}
	}()
	go func() {
		defer wg.Done()
		consume(t, q, &consumer, bell, &taken)
	}()
	wg.Wait()
	if n := lost.Load(); n > 0 {
		t.Fatalf("%d of %d frames waited, unannounced, for a later event", n, handshakeRounds)
	}
}

// TestReleaseWakesWaitingProducer: a producer fills a small inbox, and
// when it is full registers with WaitForRoom and sleeps on its own
// inbox's doorbell; the consumer drains, releases, parks and sleeps on
// the full inbox's doorbell. Neither may ever sleep while the other does
// with no ring pending: a release the waiting producer missed, or a frame
// the parked consumer missed, leaves both asleep for an event that never
// comes.
func TestReleaseWakesWaitingProducer(t *testing.T) {
	q, err := New(Config{Slots: 4, MaxFrame: 2048})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	own, err := New(Config{Slots: 4, MaxFrame: 2048})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	qBell, ownBell := q.Doorbell(), own.Doorbell()
	var (
		producer, consumer sleeper
		taken              atomic.Uint64
		wg                 sync.WaitGroup
	)
	done := make(chan struct{})
	lost := watch(done, func() bool {
		return producer.asleep(func() bool {
			return consumer.asleep(func() bool {
				return !rung(t, qBell) && !rung(t, ownBell)
			})
		})
	}, qBell, ownBell)
	defer close(done)

	frame := pattern(64, 5)
	wg.Add(2)
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for sent := 0; sent < handshakeRounds; {
			if q.Put(frame) {
				sent++
				continue
			}
			q.Flush()
			if !own.Park() {
				t.Error("own inbox holds frames")
				return
			}
			if !q.WaitForRoom(own) {
				t.Error("waiter not registered")
				return
			}
			if !q.Room(len(frame)) {
				producer.sleep(t, ownBell)
			}
			own.Unpark()
		}
		q.Flush()
	}()
	go func() {
		defer wg.Done()
		consume(t, q, &consumer, qBell, &taken)
	}()
	wg.Wait()
	if n := lost.Load(); n > 0 {
		t.Fatalf("%d times producer and consumer both waited for a later event", n)
	}
}

// spinSink keeps spin's loop from being optimised away.
var spinSink atomic.Uint64

// consume is the consumer of both tests, on a locked thread: it drains
// q, releases, parks and sleeps on bell until it has taken
// handshakeRounds frames.
func consume(t *testing.T, q *Inbox, consumer *sleeper, bell int, taken *atomic.Uint64) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for {
		for _, ok := next(q); ok; _, ok = next(q) {
			taken.Add(1)
		}
		q.Release()
		if taken.Load() == handshakeRounds {
			return
		}
		if !q.Park() {
			continue
		}
		consumer.sleep(t, bell)
		q.Unpark()
	}
}

// spin busy-waits for about n loop iterations.
func spin(n int) {
	x := uint64(0)
	for j := range n {
		x += uint64(j)
	}
	spinSink.Store(x)
}
