package inbox

import (
	"encoding/binary"
	"errors"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// frameLen varies frame lengths so that single- and multi-slot frames mix
// and wrap.
func frameLen(seq uint64) int {
	if seq%50 == 0 {
		return 9014
	}
	return 60 + int(seq*131%1455)
}

// TestMultiProducer: four producers on their own goroutines send 100k
// numbered frames each, in batches, retrying when the ring is full; the
// consumer sleeps on the doorbell whenever it runs dry. Every frame must
// arrive exactly once, each producer's in order, intact, and the consumer
// must never miss a wake-up. Now and then the consumer takes a few frames
// more and gives them back (Untake, as a reactor does whose guest has no
// RX buffers): they must come again, in order, the ring staying full
// meanwhile.
func TestMultiProducer(t *testing.T) {
	const producers, perProducer = 4, 100_000
	q := newInbox(t, Config{Slots: 256, MaxFrame: 9014})
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for seq := uint64(0); seq < perProducer; seq++ {
				n := frameLen(seq)
				for {
					s, ok := q.Reserve(n)
					if ok {
						b := s.Bytes()
						b[0] = byte(p)
						binary.LittleEndian.PutUint64(b[1:], seq)
						b[n-1] = byte(seq)
						s.Commit()
						break
					}
					// Full: what was committed must be announced before
					// waiting for room, or the consumer may sleep on it.
					q.Flush()
					runtime.Gosched()
				}
				if seq%uint64(8+p*9) == 0 {
					q.Flush()
				}
			}
			q.Flush()
		})
	}

	var want [producers]uint64
	taken, untaken := 0, 0
	for total := 0; total < producers*perProducer; {
		for n := 0; ; n++ {
			fr, ok := next(q)
			f := fr.Head
			if !ok {
				break
			}
			if taken++; taken%997 == 0 {
				// This frame and up to taken%4 after it go back; the
				// next batch takes them again.
				for range taken % 4 {
					next(q)
				}
				q.Untake(n)
				untaken++
				break
			}
			p, seq := int(f[0]), binary.LittleEndian.Uint64(f[1:])
			if p >= producers || seq != want[p] {
				t.Fatalf("producer %d: got frame %d, want %d", p, seq, want[p])
			}
			if len(f) != frameLen(seq) || f[len(f)-1] != byte(seq) {
				t.Fatalf("producer %d frame %d: %d bytes, damaged", p, seq, len(f))
			}
			want[p]++
			total++
		}
		q.Release()
		if total < producers*perProducer && q.Park() {
			waitDoorbell(t, q)
			q.Unpark()
		}
	}
	wg.Wait()
	if _, ok := next(q); ok {
		t.Error("frame beyond the last")
	}
	t.Logf("full-ring refusals retried: %d, batches given back: %d", q.Drops(DropFull), untaken)
}

// waitDoorbell sleeps in poll(2) until the doorbell rings, and resets it.
// A lost wake-up shows as a timeout.
func waitDoorbell(t *testing.T, q *Inbox) {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(q.Doorbell()), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 10_000)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("lost wake-up: parked consumer not rung within 10 s")
		}
		break
	}
	var b [8]byte
	if _, err := unix.Read(q.Doorbell(), b[:]); err != nil {
		t.Fatal(err)
	}
}
