package ipam

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"
)

func never(netip.Addr) bool { return false }

func TestPoolIPv4LowestSkipsNetworkAndBroadcast(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("10.0.0.0/30"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"10.0.0.1", "10.0.0.2"} {
		a, err := p.Lowest(never)
		if err != nil {
			t.Fatal(err)
		}
		if a.String() != want {
			t.Fatalf("got %s, want %s", a, want)
		}
		if err := p.Take(a); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Lowest(never); !errors.Is(err, ErrFull) {
		t.Fatalf("full pool: got %v", err)
	}
	p.Release(netip.MustParseAddr("10.0.0.1"))
	if a, _ := p.Lowest(never); a.String() != "10.0.0.1" {
		t.Fatalf("after release got %s", a)
	}
}

func TestPoolCheck(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("192.168.1.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Take(netip.MustParseAddr("192.168.1.7")); err != nil {
		t.Fatal(err)
	}
	cases := map[string]error{
		"192.168.1.0":   ErrReserved,
		"192.168.1.255": ErrReserved,
		"192.168.2.1":   ErrOutside,
		"192.168.1.7":   ErrInUse,
		"192.168.1.8":   nil,
	}
	for a, want := range cases {
		if err := p.Check(netip.MustParseAddr(a)); !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", a, err, want)
		}
	}
}

func TestPoolIPv6(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("fd00:1::/64"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Lowest(func(a netip.Addr) bool { return a == netip.MustParseAddr("fd00:1::1") })
	if err != nil {
		t.Fatal(err)
	}
	if a.String() != "fd00:1::2" {
		t.Fatalf("got %s", a)
	}
	if err := p.Check(netip.MustParseAddr("fd00:1::")); !errors.Is(err, ErrReserved) {
		t.Fatalf("anycast address: %v", err)
	}
	if err := p.Check(netip.MustParseAddr("fd00:1:0:0:ffff:ffff:ffff:ffff")); err != nil {
		t.Fatalf("last address of an IPv6 prefix is assignable: %v", err)
	}
}

func TestNewPoolRejects(t *testing.T) {
	for _, s := range []string{"10.0.0.1/24", "10.0.0.0/31", "10.0.0.0/32"} {
		if _, err := NewPool(netip.MustParsePrefix(s)); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
}

// TestPoolLowestAfterReleases takes and releases addresses of a small
// pool in a random order, with a skip that changes, and checks every
// Lowest against a scan of the whole pool.
func TestPoolLowestAfterReleases(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("192.0.2.0/27"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var all []netip.Addr
	for a := netip.MustParseAddr("192.0.2.1"); a != netip.MustParseAddr("192.0.2.31"); a = a.Next() {
		all = append(all, a)
	}
	used := map[netip.Addr]bool{}
	for step := range 3000 {
		skipped := all[rng.IntN(len(all))]
		skip := func(a netip.Addr) bool { return a == skipped }
		var want netip.Addr
		for _, a := range all {
			if !used[a] && !skip(a) {
				want = a
				break
			}
		}
		got, err := p.Lowest(skip)
		if want.IsValid() != (err == nil) || got != want {
			t.Fatalf("step %d: Lowest = %v, %v; want %v", step, got, err, want)
		}
		if a := all[rng.IntN(len(all))]; used[a] {
			p.Release(a)
			delete(used, a)
		} else if got.IsValid() && rng.IntN(3) > 0 {
			if err := p.Take(got); err != nil {
				t.Fatal(err)
			}
			used[got] = true
		} else if err := p.Take(a); err != nil {
			t.Fatal(err)
		} else {
			used[a] = true
		}
	}
}
