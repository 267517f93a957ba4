package route

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
)

// TestPublishedConcurrent has readers look up while the owner keeps
// publishing new generations: every snapshot a reader loads is complete
// (both NICs of one generation, never a mix), and -race finds no race.
func TestPublishedConcurrent(t *testing.T) {
	var pub Published[int]
	build := func(gen int) *Table[int] {
		b := NewBuilder[int]()
		mustAdd(t, b, "10.0.0.1/32", gen)
		mustAdd(t, b, "fd00::1/128", gen)
		return b.Build()
	}
	pub.Store(build(0))
	const gens = 2000
	var stop atomic.Bool
	var wg sync.WaitGroup
	a4, a6 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("fd00::1")
	for range 4 {
		wg.Go(func() {
			last := 0
			for !stop.Load() {
				tab := pub.Load()
				g4, ok4 := tab.Lookup(a4)
				g6, ok6 := tab.Lookup(a6)
				if !ok4 || !ok6 || g4 != g6 {
					t.Errorf("torn snapshot: %d %v, %d %v", g4, ok4, g6, ok6)
					return
				}
				if g4 < last {
					t.Errorf("generation went back: %d after %d", g4, last)
					return
				}
				last = g4
			}
		})
	}
	for gen := 1; gen <= gens; gen++ {
		pub.Store(build(gen))
	}
	stop.Store(true)
	wg.Wait()
}
