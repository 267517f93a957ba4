package inbox

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

var benchSizes = []int{64, 1500, 9000}

// BenchmarkPutNext is the inbox's own cost per frame, producer and consumer
// on one goroutine: Put (reserve, copy, commit), Next, Release.
func BenchmarkPutNext(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			q := newInbox(b, Config{Slots: 256, MaxFrame: 9014})
			frame := pattern(n, 0)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				q.Put(frame)
				next(q)
				q.Release()
			}
		})
	}
}

// BenchmarkCrossThread hands frames from producer goroutines to a consumer
// goroutine in batches of 32, as reactors on different CPUs do; ns/op is
// per frame. Producers retry when the ring is full, the consumer spins
// when it is empty (no doorbell: this measures the ring).
func BenchmarkCrossThread(b *testing.B) {
	for _, producers := range []int{1, 2} {
		for _, n := range benchSizes[:2] {
			b.Run(fmt.Sprintf("producers=%d/%d", producers, n), func(b *testing.B) {
				crossThread(b, producers, n)
			})
		}
	}
}

func crossThread(b *testing.B, producers, n int) {
	q := newInbox(b, Config{Slots: 256, MaxFrame: 9014})
	frame := pattern(n, 0)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	total := b.N
	var wg sync.WaitGroup
	for p := range producers {
		share := total / producers
		if p == 0 {
			share += total % producers
		}
		wg.Go(func() {
			for i := range share {
				for !q.Put(frame) {
					runtime.Gosched()
				}
				if i%32 == 31 {
					q.Flush()
				}
			}
		})
	}
	for got := 0; got < total; {
		k := 0
		for ; k < 32; k++ {
			if _, ok := next(q); !ok {
				break
			}
		}
		q.Release()
		if k == 0 {
			runtime.Gosched()
		}
		got += k
	}
	wg.Wait()
}
