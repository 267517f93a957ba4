package uring

import (
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestPollAddEventfd(t *testing.T) {
	forEachConfig(t, 8, func(t *testing.T, r *Ring) {
		efd := newEventfd(t, unix.EFD_NONBLOCK)
		sqe := getSQE(t, r)
		sqe.PreparePollAdd(efd, unix.POLLIN)
		sqe.UserData = 3
		submit(t, r)
		expectNone(t, r, 10*time.Millisecond)
		eventfdAdd(t, efd, 1)
		got := waitOne(t, r)
		if got.UserData != 3 || got.Res&unix.POLLIN == 0 || got.Flags&CQEFMore != 0 {
			t.Fatalf("completion %+v; want UserData 3, POLLIN, no CQEFMore", got)
		}
	})
}

// TestPollAddSocket polls both ends of a unix socketpair, the way a reactor
// polls its vhost-user connection, and a listening socket for a connection.
func TestPollAddSocket(t *testing.T) {
	forEachConfig(t, 8, func(t *testing.T, r *Ring) {
		fds := newSocketpair(t)
		sqe := getSQE(t, r)
		sqe.PreparePollAdd(fds[0], unix.POLLIN)
		sqe.UserData = 1
		sqe = getSQE(t, r)
		sqe.PreparePollAdd(fds[1], unix.POLLOUT)
		sqe.UserData = 2
		submit(t, r)
		if got := waitOne(t, r); got.UserData != 2 || got.Res&unix.POLLOUT == 0 {
			t.Fatalf("completion %+v; want UserData 2 with POLLOUT", got)
		}
		expectNone(t, r, 10*time.Millisecond)
		if _, err := unix.Write(fds[1], []byte("x")); err != nil {
			t.Fatal(err)
		}
		if got := waitOne(t, r); got.UserData != 1 || got.Res&unix.POLLIN == 0 {
			t.Fatalf("completion %+v; want UserData 1 with POLLIN", got)
		}

		ln, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(ln)
		addr := &unix.SockaddrUnix{Name: filepath.Join(t.TempDir(), "vhost.sock")}
		if err := unix.Bind(ln, addr); err != nil {
			t.Fatal(err)
		}
		if err := unix.Listen(ln, 1); err != nil {
			t.Fatal(err)
		}
		sqe = getSQE(t, r)
		sqe.PreparePollAdd(ln, unix.POLLIN)
		sqe.UserData = 4
		submit(t, r)
		c, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(c)
		if err := unix.Connect(c, addr); err != nil {
			t.Fatal(err)
		}
		if got := waitOne(t, r); got.UserData != 4 || got.Res&unix.POLLIN == 0 {
			t.Fatalf("completion %+v; want UserData 4 with POLLIN", got)
		}
	})
}

// TestPollMultishot checks that one multishot poll completes once per
// wake-up with CQEFMore, and ends without it once removed.
func TestPollMultishot(t *testing.T) {
	forEachConfig(t, 8, func(t *testing.T, r *Ring) {
		efd := newEventfd(t, unix.EFD_NONBLOCK)
		sqe := getSQE(t, r)
		sqe.PreparePollMultishot(efd, unix.POLLIN)
		sqe.UserData = 5
		submit(t, r)
		for i := range 4 {
			eventfdAdd(t, efd, 1)
			got := waitOne(t, r)
			if got.UserData != 5 || got.Res&unix.POLLIN == 0 || got.Flags&CQEFMore == 0 {
				t.Fatalf("shot %d: completion %+v; want UserData 5, POLLIN, CQEFMore", i, got)
			}
			eventfdTake(t, efd)
		}
		sqe = getSQE(t, r)
		sqe.PreparePollRemove(5)
		sqe.UserData = 6
		submit(t, r)
		results := map[uint64]CompletionQueueEvent{}
		for range 2 {
			got := waitOne(t, r)
			results[got.UserData] = got
		}
		if got := results[5]; got.Res != -int32(unix.ECANCELED) || got.Flags&CQEFMore != 0 {
			t.Fatalf("removed poll: completion %+v; want -ECANCELED without CQEFMore", got)
		}
		if got := results[6]; got.Res != 0 {
			t.Fatalf("poll remove: completion %+v; want Res 0", got)
		}
	})
}

func TestCancelPendingPoll(t *testing.T) {
	forEachConfig(t, 8, func(t *testing.T, r *Ring) {
		efd := newEventfd(t, unix.EFD_NONBLOCK)
		for _, cancel := range []struct {
			name    string
			prepare func(*SubmissionQueueEntry)
		}{
			{"by user data", func(sqe *SubmissionQueueEntry) { sqe.PrepareCancel(10, 0) }},
			{"by fd", func(sqe *SubmissionQueueEntry) { sqe.PrepareCancelFd(efd, 0) }},
			{"any", func(sqe *SubmissionQueueEntry) { sqe.PrepareCancel(0, AsyncCancelAny) }},
		} {
			sqe := getSQE(t, r)
			sqe.PreparePollAdd(efd, unix.POLLIN)
			sqe.UserData = 10
			submit(t, r)
			sqe = getSQE(t, r)
			cancel.prepare(sqe)
			sqe.UserData = 11
			submit(t, r)
			results := map[uint64]CompletionQueueEvent{}
			for range 2 {
				got := waitOne(t, r)
				results[got.UserData] = got
			}
			if got := results[10]; got.Res != -int32(unix.ECANCELED) {
				t.Fatalf("%s: cancelled poll completion %+v; want -ECANCELED", cancel.name, got)
			}
			if got := results[11]; got.Res < 0 {
				t.Fatalf("%s: cancel completion %+v; want success", cancel.name, got)
			}
		}
		sqe := getSQE(t, r)
		sqe.PrepareCancel(12345, 0)
		submit(t, r)
		if got := waitOne(t, r); got.Res != -int32(unix.ENOENT) {
			t.Fatalf("cancel of nothing: completion %+v; want -ENOENT", got)
		}
	})
}
