package route

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestEditMatchesRebuild changes a table of host routes and routed
// prefixes, both families, with Edit, one random add or remove at a time,
// and checks after each change that the edited table routes every
// address as a table built from scratch does, and that the table it was
// edited from still routes as it did.
func TestEditMatchesRebuild(t *testing.T) {
	var cands []netip.Prefix
	for i := range 64 {
		cands = append(cands,
			netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i / 16), byte(i)}), 32),
			netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfd, 0, 15: byte(i)}), 128))
	}
	cands = append(cands, pfx("10.0.0.0/28"), pfx("10.0.2.0/24"), pfx("fd00::/120"), pfx("2001:db8::/48"))
	var probes []netip.Addr
	for _, p := range cands {
		probes = append(probes, p.Addr(), p.Addr().Next())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	held := map[netip.Prefix]int{}
	rebuilt := func() *Table[int] {
		b := NewBuilder[int]()
		for p, d := range held {
			mustAdd(t, b, p.String(), d)
		}
		if err := b.SetSubnet(pfx("10.0.0.0/16")); err != nil {
			t.Fatal(err)
		}
		return b.Build()
	}
	cur := rebuilt()
	for step := range 2000 {
		prev, want := cur, rebuilt()
		b := Edit(cur)
		p := cands[rng.IntN(len(cands))]
		if d, ok := held[p]; ok && rng.IntN(2) == 0 {
			if !b.Remove(p) {
				t.Fatalf("step %d: Remove(%v) found no route (dest %d)", step, p, d)
			}
			delete(held, p)
		} else if !ok {
			held[p] = step
			mustAdd(t, b, p.String(), step)
		}
		cur = b.Build()
		now := rebuilt()
		for _, a := range probes {
			gd, gok := cur.Lookup(a)
			wd, wok := now.Lookup(a)
			if gd != wd || gok != wok {
				t.Fatalf("step %d: edited table routes %v to %d %v, a rebuilt one to %d %v", step, a, gd, gok, wd, wok)
			}
			pd, pok := prev.Lookup(a)
			od, ook := want.Lookup(a)
			if pd != od || pok != ook {
				t.Fatalf("step %d: the table edited from changed: %v to %d %v, was %d %v", step, a, pd, pok, od, ook)
			}
		}
		if cur.Len() != len(held) || cur.Subnet4() != pfx("10.0.0.0/16") {
			t.Fatalf("step %d: edited table has %d routes (want %d), subnet %v", step, cur.Len(), len(held), cur.Subnet4())
		}
	}
}

func TestEditRemoveAbsent(t *testing.T) {
	tab := network(t)
	b := Edit(tab)
	if b.Remove(pfx("10.9.9.9/32")) || b.Remove(netip.Prefix{}) {
		t.Error("Remove found a route that is not there")
	}
	if err := b.Add(pfx("10.0.0.1/32"), 9); err == nil {
		t.Error("Edit's Builder adds a duplicate of the table's route")
	}
	if !b.Remove(pfx("10.0.0.9/24")) { // host bits ignored
		t.Error("Remove misses a routed prefix given with host bits")
	}
	if got := b.Build(); got.Len() != tab.Len()-1 || got.Subnet4() != tab.Subnet4() {
		t.Errorf("edited table: %d routes, subnet %v; from %d, %v", got.Len(), got.Subnet4(), tab.Len(), tab.Subnet4())
	}
	if Edit[int](nil).Build().Len() != 0 {
		t.Error("Edit of a nil table is not empty")
	}
}
