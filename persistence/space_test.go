package persistence

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// tmpfs mounts a tmpfs of size on a new directory and unmounts it at
// cleanup.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file into dir until the disk has no block left.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, n := range []int{1 << 16, 1 << 12, 1 << 9} {
		for buf := make([]byte, n); ; {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
}

func network(i int) *NetworkRecord {
	n := &NetworkRecord{ID: fmt.Sprintf("n%05d", i), Name: fmt.Sprintf("net-%05d", i), IPv6Prefix: netip.MustParsePrefix("fd00::/64")}
	for j := range 48 {
		n.NTPServers = append(n.NTPServers, netip.MustParseAddr(fmt.Sprintf("2001:db8:%x:ffff:ffff:ffff:ffff:%x", i, j+1)))
	}
	return n
}

func loadCount(t *testing.T, s *Store) int {
	t.Helper()
	snap, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	return len(snap.Networks)
}

// TestFullDisk writes networks onto a 4 MiB tmpfs until the store refuses
// with ErrNoSpace, reopens it and does so again, fills the disk to its
// last block and checks that the store opens on it as a read-only copy
// that reads everything and refuses writes, and that once the disk grows
// it writes again with every acknowledged network kept.
func TestFullDisk(t *testing.T) {
	dir := tmpfs(t, "4m")
	var s *Store
	closeStore := func() {
		t.Helper()
		err := s.Close()
		s = nil
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if s != nil {
			_ = s.Close()
		}
	})
	stored := 0
	writeUntilFull := func() {
		t.Helper()
		for ; ; stored++ {
			if stored == 10000 {
				t.Fatal("10000 networks fit on a 4 MiB disk")
			}
			err := s.CreateNetwork(network(stored))
			if errors.Is(err, ErrNoSpace) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	s = open(t, dir)
	writeUntilFull()
	t.Logf("%d networks stored before the disk was full", stored)
	// Closing flushes the write-ahead log into a table, which may take
	// less room than the log: the reopened store may take a few more.
	closeStore()
	s = open(t, dir)
	if s.readOnly() {
		t.Fatal("store refusing writes for want of space reopens read only")
	}
	writeUntilFull()
	t.Logf("%d networks stored after a reopen", stored)
	if got := loadCount(t, s); got != stored {
		t.Fatalf("%d networks loaded, %d stored", got, stored)
	}
	closeStore()

	// A store that took writes cannot be closed on a disk without a free
	// block (the daemon then leaves its log to the next start), so the
	// disk is filled after closing it.
	fill(t, dir)

	var err error
	if s, err = Open(dir, quiet()); err != nil {
		t.Fatalf("open on a disk without a free block: %v", err)
	}
	if !s.readOnly() {
		t.Fatal("store on a full disk is not read only")
	}
	if got := loadCount(t, s); got != stored {
		t.Fatalf("read-only copy loads %d networks, %d stored", got, stored)
	}
	if err := s.CreateNetwork(network(stored)); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("write to the read-only copy: %v", err)
	}

	if out, err := exec.Command("mount", "-o", "remount,size=32m", dir).CombinedOutput(); err != nil {
		t.Fatalf("grow tmpfs: %v: %s", err, out)
	}
	if err := s.CreateNetwork(network(stored)); err != nil {
		t.Fatalf("write once the disk grew: %v", err)
	}
	stored++
	if s.readOnly() {
		t.Fatal("store still read only after a write")
	}
	closeStore()
	if ents, err := filepath.Glob("/dev/shm/mvirt-net-readonly-*"); err != nil || len(ents) != 0 {
		t.Fatalf("read-only copies left behind: %v %v", ents, err)
	}
	s = open(t, dir)
	if got := loadCount(t, s); got != stored {
		t.Fatalf("%d networks loaded after growing and reopening, %d stored", got, stored)
	}
}
