package uring

import (
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// reactorState holds what a reactor hands the kernel, allocated once.
type reactorState struct {
	one, kick eventfdBuf
	timer     Timespec
	short     Timespec
	send      *message
	recv      *message
	cqes      [16]*CompletionQueueEvent
}

// TestAllocs runs one round of every hot-path call a reactor makes and
// requires that none of them allocates.
func TestAllocs(t *testing.T) {
	forEachConfig(t, 16, func(t *testing.T, r *Ring) {
		efd := newEventfd(t, unix.EFD_NONBLOCK)
		fds := newSocketpair(t)
		st := &reactorState{
			timer: NsecToTimespec(1000),
			short: NsecToTimespec(1000),
			send:  newMessage(1, 0),
			recv:  newMessage(1, 0),
		}
		binary.NativeEndian.PutUint64(st.one.b[:], 1)
		var failed error

		round := func() {
			r.GetSQE().PrepareNop()
			r.GetSQE().PrepareWrite(efd, st.one.b[:], 0)
			r.GetSQE().PrepareRead(efd, st.kick.b[:], 0)
			r.GetSQE().PreparePollAdd(efd, unix.POLLOUT)
			r.GetSQE().PrepareTimeout(&st.timer, 0, 0)
			r.GetSQE().PrepareCancel(12345, 0)
			r.GetSQE().PreparePollRemove(12345)
			r.GetSQE().PrepareSendMsg(fds[1], &st.send.hdr, 0)
			r.GetSQE().PrepareRecvMsg(fds[0], &st.recv.hdr, 0)
			const batch = 9
			if _, err := r.SubmitAndWait(batch); err != nil {
				failed = err
				return
			}
			for reaped := uint32(0); reaped < batch; {
				n := r.PeekBatchCQE(st.cqes[:])
				r.CQAdvance(n)
				reaped += n
			}

			r.GetSQE().PrepareNop()
			if _, err := r.Submit(); err != nil {
				failed = err
				return
			}
			cqe, err := r.WaitCQE()
			if err != nil {
				failed = err
				return
			}
			r.CQESeen(cqe)
			if _, err := r.PeekCQE(); !errors.Is(err, unix.EAGAIN) {
				failed = err
				return
			}
			if _, err := r.SubmitAndWaitTimeout(1, &st.short); !errors.Is(err, unix.ETIME) {
				failed = err
			}
		}
		if allocs := testing.AllocsPerRun(200, round); allocs != 0 {
			t.Fatalf("%v allocations per round; want 0", allocs)
		}
		if failed != nil {
			t.Fatalf("round failed: %v", failed)
		}
	})
}

// TestPrepareMovesBuffersToHeap checks that memory handed to the kernel
// cannot stay on a goroutine stack, which moves when it grows: a buffer
// declared in the loop costs an allocation, one in a long-lived struct none.
func TestPrepareMovesBuffersToHeap(t *testing.T) {
	r := newTestRing(t, 8, Options{}, 0)
	efd := newEventfd(t, unix.EFD_NONBLOCK)
	write := func(buf []byte) {
		r.GetSQE().PrepareWrite(efd, buf, 0)
		if _, err := r.SubmitAndWait(1); err != nil {
			t.Fatal(err)
		}
		cqe, _ := r.PeekCQE()
		r.CQESeen(cqe)
	}
	if allocs := testing.AllocsPerRun(50, func() {
		var local [8]byte
		local[0] = 1
		write(local[:])
	}); allocs != 1 {
		t.Fatalf("local buffer: %v allocations; want 1 (moved to the heap)", allocs)
	}
	long := new(eventfdBuf)
	long.b[0] = 1
	if allocs := testing.AllocsPerRun(50, func() { write(long.b[:]) }); allocs != 0 {
		t.Fatalf("long-lived buffer: %v allocations; want 0", allocs)
	}
}
