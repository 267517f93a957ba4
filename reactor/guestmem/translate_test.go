package guestmem

import (
	"fmt"
	"math"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestTranslateHonoursMmapOffset(t *testing.T) {
	page := uint64(os.Getpagesize())
	fd := newMemfd(t, int(4*page))
	for _, off := range []uint64{0, 0x10, page, page + 0x7f8, 3*page - 1} {
		var tbl Table
		r := Region{GuestPhysAddr: 0x10_0000, Size: page / 2, UserspaceAddr: 0x7f00_0000_0000, MmapOffset: off}
		if err := tbl.Add(r, dup(t, fd)); err != nil {
			t.Fatalf("offset %#x: %v", off, err)
		}
		for _, rel := range []uint64{0, 1, page/2 - 1} {
			b, ok := tbl.Translate(r.GuestPhysAddr+rel, 1)
			if !ok || len(b) != 1 || cap(b) != 1 {
				t.Fatalf("offset %#x rel %#x: ok=%v len=%d cap=%d", off, rel, ok, len(b), cap(b))
			}
			if want := pattern(int(off + rel)); b[0] != want {
				t.Errorf("offset %#x rel %#x: byte %d, want %d", off, rel, b[0], want)
			}
			u, ok := tbl.TranslateUser(r.UserspaceAddr+rel, 1)
			if !ok || &u[0] != &b[0] {
				t.Errorf("offset %#x rel %#x: user translation differs", off, rel)
			}
		}
		if err := tbl.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTranslateWritesReachTheFile(t *testing.T) {
	page := uint64(os.Getpagesize())
	fd := newMemfd(t, int(2*page))
	var tbl Table
	defer tbl.Close()
	if err := tbl.Add(Region{GuestPhysAddr: 0x1000, Size: page - 8, MmapOffset: page + 8}, dup(t, fd)); err != nil {
		t.Fatal(err)
	}
	b, ok := tbl.Translate(0x1000+4, 3)
	if !ok {
		t.Fatal("translate failed")
	}
	copy(b, "abc")
	got := make([]byte, 3)
	if _, err := unix.Pread(fd, got, int64(page+12)); err != nil {
		t.Fatal(err)
	}
	if string(got) != "abc" {
		t.Fatalf("file holds %q, want abc", got)
	}
}

func TestTranslateBounds(t *testing.T) {
	page := uint64(os.Getpagesize())
	fd := newMemfd(t, int(4*page))
	var tbl Table
	defer tbl.Close()
	lo := Region{GuestPhysAddr: 0x10000, Size: page, UserspaceAddr: 0x5000_0000}
	hi := Region{GuestPhysAddr: 0x10000 + page, Size: page, UserspaceAddr: 0x6000_0000, MmapOffset: 2 * page}
	top := Region{GuestPhysAddr: math.MaxUint64 - page + 1, Size: page, UserspaceAddr: math.MaxUint64 - page + 1, MmapOffset: page}
	for _, r := range []Region{lo, hi, top} {
		if err := tbl.Add(r, dup(t, fd)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		gpa  uint64
		n    uint64
		ok   bool
		file int // file offset of the first byte when ok
	}{
		{"first byte", 0x10000, 1, true, 0},
		{"whole lo", 0x10000, page, true, 0},
		{"last byte lo", 0x10000 + page - 1, 1, true, int(page - 1)},
		{"first byte hi", 0x10000 + page, 1, true, int(2 * page)},
		{"whole hi", 0x10000 + page, page, true, int(2 * page)},
		{"crosses lo into adjacent hi", 0x10000 + page - 1, 2, false, 0},
		{"spans both", 0x10000, 2 * page, false, 0},
		{"below", 0x10000 - 1, 1, false, 0},
		{"straddles start", 0x10000 - 1, 2, false, 0},
		{"past hi", 0x10000 + 2*page, 1, false, 0},
		{"zero length", 0x10000, 0, false, 0},
		{"length wraps", 0x10000 + 8, math.MaxUint64, false, 0},
		{"length too big", 0x10000, page + 1, false, 0},
		{"address zero", 0, 1, false, 0},
		{"top last byte", math.MaxUint64, 1, true, int(2*page - 1)},
		{"top wraps to zero", math.MaxUint64, 2, false, 0},
		{"whole top", math.MaxUint64 - page + 1, page, true, int(page)},
		{"max both", math.MaxUint64, math.MaxUint64, false, 0},
	}
	for _, tc := range tests {
		for pass := range 2 { // the second pass runs with a warm lookup cache
			b, ok := tbl.Translate(tc.gpa, tc.n)
			if ok != tc.ok {
				t.Fatalf("%s pass %d: ok = %v, want %v", tc.name, pass, ok, tc.ok)
			}
			if !ok {
				if b != nil {
					t.Fatalf("%s: non-nil view on failure", tc.name)
				}
				continue
			}
			if uint64(len(b)) != tc.n || uint64(cap(b)) != tc.n {
				t.Fatalf("%s: len %d cap %d, want %d", tc.name, len(b), cap(b), tc.n)
			}
			if b[0] != pattern(tc.file) {
				t.Fatalf("%s: first byte %d, want %d", tc.name, b[0], pattern(tc.file))
			}
		}
	}
	if _, ok := tbl.TranslateUser(0x5000_0000+page-1, 2); ok {
		t.Error("user range crossing region end accepted")
	}
	if _, ok := tbl.TranslateUser(0x5000_0000-1, 1); ok {
		t.Error("user address below region accepted")
	}
	if _, ok := tbl.TranslateUser(math.MaxUint64, 2); ok {
		t.Error("user range wrapping accepted")
	}
	if b, ok := tbl.TranslateUser(0x6000_0000, page); !ok || b[0] != pattern(int(2*page)) {
		t.Error("user translation of hi failed")
	}
}

func TestTranslateAllocs(t *testing.T) {
	tbl := benchTable(t, 8)
	defer tbl.Close()
	page := uint64(os.Getpagesize())
	allocs := testing.AllocsPerRun(100, func() {
		for i := range uint64(8) {
			if _, ok := tbl.Translate(i*4*page+64, 1500); !ok {
				t.Fatal("translate failed")
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

// benchTable returns a table of n adjacent regions of 2 pages each.
func benchTable(tb testing.TB, n int) *Table {
	tb.Helper()
	page := uint64(os.Getpagesize())
	fd := newMemfd(tb, int(2*page))
	tbl := &Table{}
	for i := range uint64(n) {
		if err := tbl.Add(Region{GuestPhysAddr: i * 4 * page, Size: 2 * page}, dup(tb, fd)); err != nil {
			tb.Fatal(err)
		}
	}
	return tbl
}

// BenchmarkTranslate measures hits in one region (the lookup cache holds)
// and a cycle over all regions (the cache misses every time).
func BenchmarkTranslate(b *testing.B) {
	page := uint64(os.Getpagesize())
	for _, n := range []int{1, 2, 8} {
		tbl := benchTable(b, n)
		addrs := make([]uint64, 8)
		for i := range addrs {
			addrs[i] = uint64(i%n)*4*page + 64
		}
		b.Run(fmt.Sprintf("regions=%d/same", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := tbl.Translate(addrs[n-1], 1500); !ok {
					b.Fatal("translate failed")
				}
			}
		})
		b.Run(fmt.Sprintf("regions=%d/cycle", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if _, ok := tbl.Translate(addrs[i&7], 1500); !ok {
					b.Fatal("translate failed")
				}
			}
		})
		tbl.Close()
	}
}
