package uring

import (
	"encoding/binary"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ringConfig is one way of setting a ring up; the core tests run under each.
type ringConfig struct {
	name   string
	opts   Options
	ignore uint32 // feature bits to hide, to drive older kernels' paths
}

var ringConfigs = []ringConfig{
	{name: "default"},
	{name: "submit-all", opts: Options{Flags: SetupSubmitAll | SetupClamp}},
	{name: "coop-taskrun", opts: Options{Flags: SetupCoopTaskrun}},
	{name: "single-issuer-defer", opts: Options{Flags: SetupSingleIssuer | SetupDeferTaskrun}},
	{name: "single-issuer-defer-coop", opts: Options{Flags: SetupSingleIssuer | SetupDeferTaskrun | SetupCoopTaskrun}},
	{name: "no-ext-arg", ignore: FeatExtArg},
	{name: "no-single-mmap", ignore: FeatSingleMMap},
	{name: "cq-size", opts: Options{CQEntries: 256}},
}

// forEachConfig runs f in a subtest per ring configuration, on a locked OS
// thread as SetupSingleIssuer and SetupDeferTaskrun require.
func forEachConfig(t *testing.T, entries uint32, f func(t *testing.T, r *Ring)) {
	t.Helper()
	for _, c := range ringConfigs {
		t.Run(c.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			f(t, newTestRing(t, entries, c.opts, c.ignore))
		})
	}
}

func newTestRing(t testing.TB, entries uint32, opts Options, ignore uint32) *Ring {
	t.Helper()
	r, err := newRing(entries, opts, ignore)
	if err != nil {
		t.Fatalf("newRing: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}

func newEventfd(t testing.TB, flags int) int {
	t.Helper()
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|flags)
	if err != nil {
		t.Fatalf("eventfd: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func newSocketpair(t testing.TB) [2]int {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	t.Cleanup(func() {
		unix.Close(fds[0])
		unix.Close(fds[1])
	})
	return fds
}

func eventfdAdd(t testing.TB, fd int, n uint64) {
	t.Helper()
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], n)
	if _, err := unix.Write(fd, b[:]); err != nil {
		t.Fatalf("eventfd write: %v", err)
	}
}

// eventfdTake reads and resets the counter of a non-blocking eventfd; 0 if
// it was zero.
func eventfdTake(t testing.TB, fd int) uint64 {
	t.Helper()
	var b [8]byte
	if _, err := unix.Read(fd, b[:]); err == unix.EAGAIN {
		return 0
	} else if err != nil {
		t.Fatalf("eventfd read: %v", err)
	}
	return binary.NativeEndian.Uint64(b[:])
}

func getSQE(t testing.TB, r *Ring) *SubmissionQueueEntry {
	t.Helper()
	sqe := r.GetSQE()
	if sqe == nil {
		t.Fatal("GetSQE: SQ ring full")
	}
	return sqe
}

func submit(t testing.TB, r *Ring) {
	t.Helper()
	if _, err := r.Submit(); err != nil {
		t.Fatalf("Submit: %v", err)
	}
}

// waitOne waits for one completion and returns a copy of it.
func waitOne(t testing.TB, r *Ring) CompletionQueueEvent {
	t.Helper()
	cqe, err := r.WaitCQE()
	if err != nil {
		t.Fatalf("WaitCQE: %v", err)
	}
	c := *cqe
	r.CQESeen(cqe)
	return c
}

// expectNone checks that no completion arrives within d.
func expectNone(t testing.TB, r *Ring, d time.Duration) {
	t.Helper()
	ts := NsecToTimespec(int64(d))
	if _, err := r.SubmitAndWaitTimeout(1, &ts); err == nil {
		cqe, _ := r.PeekCQE()
		t.Fatalf("unexpected completion %+v", cqe)
	}
}

// countFds counts this process's open file descriptors.
func countFds(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("read fds: %v", err)
	}
	return len(entries)
}

// countRingMappings counts this process's io_uring memory mappings.
func countRingMappings(t testing.TB) int {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatalf("read maps: %v", err)
	}
	return strings.Count(string(maps), "io_uring")
}
