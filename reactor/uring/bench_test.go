package uring

import (
	"encoding/binary"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

var benchConfigs = []ringConfig{
	{name: "default"},
	{name: "single-issuer-defer", opts: Options{Flags: SetupSingleIssuer | SetupDeferTaskrun}},
}

// forEachBenchConfig runs f per configuration on a locked OS thread.
func forEachBenchConfig(b *testing.B, f func(b *testing.B, r *Ring)) {
	for _, c := range benchConfigs {
		b.Run(c.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			r := newTestRing(b, 64, c.opts, c.ignore)
			b.ReportAllocs()
			f(b, r)
		})
	}
}

// BenchmarkNop costs one NOP submitted, waited for and reaped per
// io_uring_enter.
func BenchmarkNop(b *testing.B) {
	forEachBenchConfig(b, func(b *testing.B, r *Ring) {
		for b.Loop() {
			r.GetSQE().PrepareNop()
			if _, err := r.SubmitAndWait(1); err != nil {
				b.Fatal(err)
			}
			cqe, err := r.PeekCQE()
			if err != nil {
				b.Fatal(err)
			}
			r.CQESeen(cqe)
		}
	})
}

// batchLoop runs ops in batches of up to 32 per io_uring_enter, reaping them
// with PeekBatchCQE; prepare fills one entry.
func batchLoop(b *testing.B, r *Ring, prepare func(*SubmissionQueueEntry)) {
	const batch = 32
	var cqes [batch]*CompletionQueueEvent
	for i := 0; i < b.N; i += batch {
		k := uint32(min(batch, b.N-i))
		for range k {
			prepare(r.GetSQE())
		}
		if _, err := r.SubmitAndWait(k); err != nil {
			b.Fatal(err)
		}
		for reaped := uint32(0); reaped < k; {
			n := r.PeekBatchCQE(cqes[:])
			r.CQAdvance(n)
			reaped += n
		}
	}
}

// BenchmarkNopBatch costs one NOP per op, 32 per io_uring_enter.
func BenchmarkNopBatch(b *testing.B) {
	forEachBenchConfig(b, func(b *testing.B, r *Ring) {
		batchLoop(b, r, (*SubmissionQueueEntry).PrepareNop)
	})
}

// BenchmarkEventfdWriteBatch costs one 8-byte eventfd write per op (a call
// to a guest), 32 per io_uring_enter.
func BenchmarkEventfdWriteBatch(b *testing.B) {
	forEachBenchConfig(b, func(b *testing.B, r *Ring) {
		efd := newEventfd(b, unix.EFD_NONBLOCK)
		one := new(eventfdBuf)
		binary.NativeEndian.PutUint64(one.b[:], 1)
		batchLoop(b, r, func(sqe *SubmissionQueueEntry) {
			sqe.PrepareWrite(efd, one.b[:], 0)
		})
	})
}
