package route

import (
	"errors"
	"net/netip"
	"testing"
)

var (
	addr = netip.MustParseAddr
	pfx  = netip.MustParsePrefix
)

// network builds the table of a small network: NIC 1 holds 10.0.0.1 and
// routes 10.0.0.0/24 (a router VM), NIC 2 holds 10.0.0.2 inside that /24,
// NIC 3 holds 10.0.1.3 and routes 192.168.0.0/16; likewise in IPv6.
func network(t *testing.T) *Table[int] {
	t.Helper()
	b := NewBuilder[int]()
	for _, r := range []struct {
		p    string
		dest int
	}{
		{"10.0.0.1/32", 1}, {"10.0.0.0/24", 1},
		{"10.0.0.2/32", 2},
		{"10.0.1.3/32", 3}, {"192.168.0.0/16", 3},
		{"fd00::1/128", 1}, {"fd00:1::/64", 1},
		{"fd00:1::2/128", 2},
		{"fd00::3/128", 3}, {"2001:db8::/32", 3},
	} {
		if err := b.Add(pfx(r.p), r.dest); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"10.0.0.0/16", "fd00::/48"} {
		if err := b.SetSubnet(pfx(s)); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build()
}

func TestLookupLongestPrefix(t *testing.T) {
	tab := network(t)
	for _, c := range []struct {
		addr string
		dest int
		ok   bool
	}{
		{"10.0.0.1", 1, true},
		{"10.0.0.2", 2, true}, // the /32 inside NIC 1's routed /24 wins
		{"10.0.0.77", 1, true},
		{"10.0.1.3", 3, true},
		{"10.0.1.4", 0, false},
		{"192.168.200.1", 3, true},
		{"8.8.8.8", 0, false},
		{"fd00::1", 1, true},
		{"fd00:1::2", 2, true},
		{"fd00:1::99", 1, true},
		{"fd00::3", 3, true},
		{"fd00::4", 0, false},
		{"2001:db8:ffff::1", 3, true},
		{"fd00::3%eth0", 3, true},
		{"::ffff:10.0.0.2", 0, false}, // IPv4-mapped is IPv6
	} {
		dest, ok := tab.Lookup(addr(c.addr))
		if dest != c.dest || ok != c.ok {
			t.Errorf("Lookup(%s) = %d, %v; want %d, %v", c.addr, dest, ok, c.dest, c.ok)
		}
	}
	if tab.Len() != 10 {
		t.Errorf("Len = %d, want 10", tab.Len())
	}
}

func TestLookupFromHeaderBytes(t *testing.T) {
	tab := network(t)
	if dest, ok := tab.Lookup(netip.AddrFrom4([4]byte{10, 0, 0, 2})); !ok || dest != 2 {
		t.Errorf("AddrFrom4: %d, %v", dest, ok)
	}
	v6 := addr("fd00:1::2").As16()
	if dest, ok := tab.Lookup(netip.AddrFrom16(v6)); !ok || dest != 2 {
		t.Errorf("AddrFrom16: %d, %v", dest, ok)
	}
}

func TestInNetwork(t *testing.T) {
	tab := network(t)
	for a, want := range map[string]bool{
		"10.0.5.5":        true,
		"10.1.0.1":        false,
		"fd00::ffff":      true,
		"fd00:0:1::1":     false,
		"192.168.0.1":     false, // routed, but not the network's own subnet
		"169.254.0.1":     false,
		"::ffff:10.0.5.5": false,
	} {
		if got := tab.InNetwork(addr(a)); got != want {
			t.Errorf("InNetwork(%s) = %v, want %v", a, got, want)
		}
	}
	if tab.Subnet4() != pfx("10.0.0.0/16") || tab.Prefix6() != pfx("fd00::/48") {
		t.Errorf("subnets %v %v", tab.Subnet4(), tab.Prefix6())
	}
}

func TestRemoveByRebuilding(t *testing.T) {
	var pub Published[int]
	b := NewBuilder[int]()
	mustAdd(t, b, "10.0.0.1/32", 1)
	mustAdd(t, b, "10.0.0.2/32", 2)
	pub.Store(b.Build())
	old := pub.Load()

	mustAdd(t, b, "10.0.0.1/32", 1) // NIC 2 is gone
	pub.Store(b.Build())

	if _, ok := pub.Load().Lookup(addr("10.0.0.2")); ok {
		t.Error("removed NIC still routed")
	}
	if d, ok := pub.Load().Lookup(addr("10.0.0.1")); !ok || d != 1 {
		t.Error("remaining NIC lost")
	}
	if d, ok := old.Lookup(addr("10.0.0.2")); !ok || d != 2 {
		t.Error("old snapshot changed under its reader")
	}
}

func TestBuilderErrors(t *testing.T) {
	b := NewBuilder[int]()
	mustAdd(t, b, "10.0.0.1/32", 1)
	if err := b.Add(pfx("10.0.0.1/32"), 2); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate: %v", err)
	}
	if err := b.Add(pfx("10.0.0.9/24"), 2); err != nil { // host bits ignored
		t.Errorf("unmasked: %v", err)
	}
	if err := b.Add(pfx("10.0.0.0/24"), 3); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate after masking: %v", err)
	}
	if err := b.Add(netip.Prefix{}, 1); !errors.Is(err, ErrInvalidPrefix) {
		t.Errorf("zero prefix: %v", err)
	}
	if err := b.SetSubnet(netip.Prefix{}); !errors.Is(err, ErrInvalidPrefix) {
		t.Errorf("zero subnet: %v", err)
	}
	if b.Build().Len() != 2 || b.Build().Len() != 0 {
		t.Error("Build does not hand over and reset")
	}
}

func TestNilTable(t *testing.T) {
	var tab *Table[int]
	if _, ok := tab.Lookup(addr("10.0.0.1")); ok || tab.InNetwork(addr("10.0.0.1")) || tab.Len() != 0 {
		t.Error("nil table routes")
	}
	if tab.Subnet4().IsValid() || tab.Prefix6().IsValid() {
		t.Error("nil table has subnets")
	}
	var pub Published[int]
	if pub.Load() != nil {
		t.Error("zero Published holds a table")
	}
}

func mustAdd(t *testing.T, b *Builder[int], p string, dest int) {
	t.Helper()
	if err := b.Add(pfx(p), dest); err != nil {
		t.Fatal(err)
	}
}
