package vmm

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestGuestMemory(t *testing.T) {
	m, err := NewGuestMemory(10000)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	page := uint64(os.Getpagesize())
	if m.Size()%page != 0 || m.Size() < 10000 || m.Base() != DefaultGuestBase {
		t.Fatalf("size %d base %#x", m.Size(), m.Base())
	}
	a := m.Alloc(3, 1)
	b := m.Alloc(16, 16)
	c := m.Alloc(6, 4)
	if a != DefaultGuestBase || b != DefaultGuestBase+16 || c != DefaultGuestBase+32 {
		t.Fatalf("allocations at %#x %#x %#x", a, b, c)
	}
	copy(m.Bytes(b, 16), "0123456789abcdef")
	// The memfd is shared: what the guest writes, the fd shows.
	got := make([]byte, 4)
	if _, err := unix.Pread(m.Fd(), got, 16); err != nil || string(got) != "0123" {
		t.Fatalf("pread: %q %v", got, err)
	}
	r := m.Region()
	if r.GuestPhysAddr != m.Base() || r.Size != m.Size() || r.MmapOffset != 0 || r.Fd != m.Fd() || r.UserspaceAddr != m.UserAddr(m.Base()) {
		t.Fatalf("region %+v", r)
	}
	if m.UserAddr(b)-m.UserAddr(a) != 16 {
		t.Fatal("UserAddr not linear")
	}
	if !m.Contains(m.Base(), m.Size()) || m.Contains(m.Base()-1, 1) || m.Contains(m.Base()+m.Size()-1, 2) || m.Contains(m.Base(), ^uint64(0)) {
		t.Fatal("Contains")
	}
	mustPanic(t, "Bytes past end", func() { m.Bytes(m.Base()+m.Size()-1, 2) })
	mustPanic(t, "Bytes below base", func() { m.Bytes(m.Base()-1, 1) })
	mustPanic(t, "Alloc too much", func() { m.Alloc(m.Size(), 1) })
	mustPanic(t, "Alloc bad alignment", func() { m.Alloc(1, 3) })
	if _, err := NewGuestMemoryAt(DefaultGuestBase+1, 4096); err == nil {
		t.Fatal("unaligned base accepted")
	}
}

func TestGuestMemoryCloseReleasesAll(t *testing.T) {
	count := func() (fds, maps int) {
		ents, _ := os.ReadDir("/proc/self/fd")
		for _, e := range ents {
			if l, _ := os.Readlink("/proc/self/fd/" + e.Name()); strings.Contains(l, "vmm-guest-ram") {
				fds++
			}
		}
		b, _ := os.ReadFile("/proc/self/maps")
		return fds, strings.Count(string(b), "vmm-guest-ram")
	}
	fds0, maps0 := count()
	m, err := NewGuestMemory(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if fds, maps := count(); fds != fds0+1 || maps != maps0+1 {
		t.Fatalf("open: %d fds %d maps, want %d %d", fds, maps, fds0+1, maps0+1)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if fds, maps := count(); fds != fds0 || maps != maps0 {
		t.Fatalf("after Close: %d fds %d maps, want %d %d", fds, maps, fds0, maps0)
	}
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}
