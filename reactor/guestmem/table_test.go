package guestmem

import (
	"math"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestAddValidation(t *testing.T) {
	page := uint64(os.Getpagesize())
	fd := newMemfd(t, int(4*page))
	tests := []struct {
		name string
		r    Region
	}{
		{"size zero", Region{GuestPhysAddr: 0, Size: 0}},
		{"gpa wraps", Region{GuestPhysAddr: math.MaxUint64 - page + 2, Size: page}},
		{"uva wraps", Region{UserspaceAddr: math.MaxUint64, Size: 2}},
		{"offset huge", Region{MmapOffset: math.MaxInt64, Size: page}},
		{"past file end", Region{Size: 4*page + 1}},
		{"offset past file end", Region{Size: page, MmapOffset: 3*page + 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tbl Table
			if err := tbl.Add(tc.r, dup(t, fd)); err == nil {
				t.Fatalf("Add(%v) succeeded", tc.r)
			}
			if tbl.Len() != 0 {
				t.Fatalf("Len = %d after failed Add", tbl.Len())
			}
		})
	}
}

func TestAddRefusesNonRegularFile(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[1])
	var tbl Table
	if err := tbl.Add(Region{Size: 4096}, p[0]); err == nil {
		t.Fatal("Add accepted a pipe")
	}
}

func TestAddRefusesOverlap(t *testing.T) {
	page := uint64(os.Getpagesize())
	fd := newMemfd(t, int(4*page))
	var tbl Table
	defer tbl.Close()
	if err := tbl.Add(Region{GuestPhysAddr: 2 * page, Size: 2 * page}, dup(t, fd)); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Region{
		{GuestPhysAddr: page, Size: page + 1},
		{GuestPhysAddr: 3 * page, Size: page},
		{GuestPhysAddr: 3*page + 5, Size: 1},
		{GuestPhysAddr: 0, Size: 8 * page},
	} {
		if err := tbl.Add(r, dup(t, fd)); err == nil {
			t.Errorf("Add(%v) overlapping accepted", r)
		}
	}
	if err := tbl.Add(Region{GuestPhysAddr: 4 * page, Size: page}, dup(t, fd)); err != nil {
		t.Errorf("adjacent region refused: %v", err)
	}
}

func TestTableFull(t *testing.T) {
	page := uint64(os.Getpagesize())
	fd := newMemfd(t, int(page))
	var tbl Table
	defer tbl.Close()
	for i := range uint64(MaxRegions) {
		if err := tbl.Add(Region{GuestPhysAddr: i * page, Size: page}, dup(t, fd)); err != nil {
			t.Fatalf("region %d: %v", i, err)
		}
	}
	if err := tbl.Add(Region{GuestPhysAddr: MaxRegions * page, Size: page}, dup(t, fd)); err == nil {
		t.Fatal("Add beyond MaxRegions accepted")
	}
}

func TestRemove(t *testing.T) {
	page := uint64(os.Getpagesize())
	fd := newMemfd(t, int(2*page))
	var tbl Table
	defer tbl.Close()
	a := Region{GuestPhysAddr: 0, Size: page}
	b := Region{GuestPhysAddr: page, Size: page, MmapOffset: page}
	for _, r := range []Region{a, b} {
		if err := tbl.Add(r, dup(t, fd)); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := tbl.Translate(page, 1); !ok {
		t.Fatal("b not translated")
	}
	if err := tbl.Remove(Region{GuestPhysAddr: page, Size: 2 * page}); err == nil {
		t.Fatal("Remove with wrong size succeeded")
	}
	if err := tbl.Remove(b); err != nil {
		t.Fatal(err)
	}
	if _, ok := tbl.Translate(page, 1); ok {
		t.Fatal("removed region still translated")
	}
	if _, ok := tbl.Translate(0, 1); !ok {
		t.Fatal("remaining region lost")
	}
	if err := tbl.Remove(b); err == nil {
		t.Fatal("second Remove succeeded")
	}
}

func TestSetAllReplacesAndKeepsOldOnFailure(t *testing.T) {
	page := uint64(os.Getpagesize())
	fd := newMemfd(t, int(4*page))
	var tbl Table
	defer tbl.Close()
	if err := tbl.SetAll([]Region{{GuestPhysAddr: 0, Size: page}, {GuestPhysAddr: page, Size: page, MmapOffset: page}},
		[]int{dup(t, fd), dup(t, fd)}); err != nil {
		t.Fatal(err)
	}
	// Overlapping second region: the whole call fails, old table stays.
	err := tbl.SetAll([]Region{{GuestPhysAddr: 8 * page, Size: page}, {GuestPhysAddr: 8 * page, Size: page}, {GuestPhysAddr: 12 * page, Size: page}},
		[]int{dup(t, fd), dup(t, fd), dup(t, fd)})
	if err == nil {
		t.Fatal("SetAll with overlapping regions succeeded")
	}
	if tbl.Len() != 2 {
		t.Fatalf("Len = %d after failed SetAll, want 2", tbl.Len())
	}
	if _, ok := tbl.Translate(page, page); !ok {
		t.Fatal("old region lost after failed SetAll")
	}
	if err := tbl.SetAll([]Region{{GuestPhysAddr: 16 * page, Size: 2 * page}}, []int{dup(t, fd)}); err != nil {
		t.Fatal(err)
	}
	if _, ok := tbl.Translate(0, 1); ok {
		t.Fatal("replaced region still translated")
	}
	if _, ok := tbl.Translate(17*page, page); !ok {
		t.Fatal("new region not translated")
	}
	if err := tbl.SetAll([]Region{{Size: page}}, nil); err == nil {
		t.Fatal("SetAll with missing fds succeeded")
	}
}

// TestNoLeaks adds, removes, replaces and closes regions, on success and
// failure paths, and then finds no fd and no mapping of the test memfds
// left behind.
func TestNoLeaks(t *testing.T) {
	page := uint64(os.Getpagesize())
	fd := newMemfd(t, int(8*page))
	fds0, maps0 := openTestFds(t), testMappings(t)

	var tbl Table
	var rs []Region
	var fds []int
	for i := range uint64(4) {
		rs = append(rs, Region{GuestPhysAddr: i * 2 * page, Size: 2 * page, MmapOffset: i * 2 * page})
		fds = append(fds, dup(t, fd))
	}
	if err := tbl.SetAll(rs, fds); err != nil {
		t.Fatal(err)
	}
	if got := testMappings(t) - maps0; got != 4 {
		t.Fatalf("%d new mappings, want 4", got)
	}
	if got := openTestFds(t) - fds0; got != 0 {
		t.Fatalf("%d fds held after SetAll, want 0", got)
	}
	if err := tbl.Add(Region{GuestPhysAddr: 1 << 30, Size: page, MmapOffset: 100}, dup(t, fd)); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Add(Region{GuestPhysAddr: 0, Size: page}, dup(t, fd)); err == nil {
		t.Fatal("overlap accepted")
	}
	if err := tbl.Remove(rs[1]); err != nil {
		t.Fatal(err)
	}
	if err := tbl.SetAll([]Region{rs[0], rs[0]}, []int{dup(t, fd), dup(t, fd)}); err == nil {
		t.Fatal("overlapping SetAll accepted")
	}
	if err := tbl.SetAll(rs[2:], []int{dup(t, fd), dup(t, fd)}); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Close(); err != nil {
		t.Fatal(err)
	}
	if got := openTestFds(t) - fds0; got != 0 {
		t.Errorf("%d test memfd fds leaked", got)
	}
	if got := testMappings(t) - maps0; got != 0 {
		t.Errorf("%d test memfd mappings leaked", got)
	}
}
