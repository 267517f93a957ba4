package guestmem

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// memfdName marks the test's memfds so that leak checks can find them.
const memfdName = "guestmem-test"

// newMemfd returns a memfd of size bytes whose byte at file offset i is
// pattern(i). The test closes it at cleanup.
func newMemfd(t testing.TB, size int) int {
	t.Helper()
	fd, err := unix.MemfdCreate(memfdName, unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatalf("memfd_create: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = pattern(i)
	}
	if _, err := unix.Pwrite(fd, buf, 0); err != nil {
		t.Fatalf("pwrite: %v", err)
	}
	return fd
}

// pattern is the byte the test memfds hold at file offset i.
func pattern(i int) byte { return byte(i % 251) }

// dup returns a duplicate of fd for a Table to consume.
func dup(t testing.TB, fd int) int {
	t.Helper()
	d, err := unix.Dup(fd)
	if err != nil {
		t.Fatalf("dup: %v", err)
	}
	return d
}

// openTestFds counts this process's fds that refer to test memfds.
func openTestFds(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("read fds: %v", err)
	}
	n := 0
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil && strings.Contains(target, memfdName) {
			n++
		}
	}
	return n
}

// testMappings counts this process's mappings of test memfds.
func testMappings(t testing.TB) int {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatalf("read maps: %v", err)
	}
	return strings.Count(string(maps), memfdName)
}
