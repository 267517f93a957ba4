package uplink_test

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netns"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// TestMasqueradeTableAfterSIGKILL: a SIGKILL leaves the daemon's
// masquerade tables in the kernel; the restarted daemon replaces them
// whole, so they hold exactly its rules again: none twice, none it did
// not write (a rule added to its table while it was down goes), and no
// IPv6 table once it runs without --uplink-masquerade6.
func TestMasqueradeTableAfterSIGKILL(t *testing.T) {
	needRoot(t)
	dirs := daemon.NewDirs(t)
	dirs.Netns = daemon.Netns(t)
	ip(t, dirs.Netns, "link", "add", "up0", "type", "veth", "peer", "name", "up0p")
	d := daemon.Start(t, dirs, "--uplink-masquerade", "up0", "--uplink-masquerade6")
	create(t, d.Client, &netpb.CreateNetworkRequest{Name: "pub", Ipv4Enabled: true, Ipv4Subnet: "203.0.113.0/25",
		Ipv6Enabled: true, Ipv6Prefix: "2001:db8:77::/64", IsPublic: true})
	create(t, d.Client, &netpb.CreateNetworkRequest{Name: "pubb", Ipv4Enabled: true, Ipv4Subnet: "198.51.100.0/25", IsPublic: true})
	want := map[string][]string{
		"ip":  {"up0 203.0.113.0/25 masquerade", "up0 198.51.100.0/25 masquerade"},
		"ip6": {"up0 2001:db8:77::/64 masquerade"},
	}
	waitTables(t, dirs.Netns, want)

	d.Kill()
	// The kernel keeps what the killed daemon installed; a rule added
	// meanwhile stands for a table the daemon no longer agrees with.
	waitTables(t, dirs.Netns, want)
	addStrayRule(t, dirs.Netns, "up0p", "198.51.100.128/25")
	waitTables(t, dirs.Netns, map[string][]string{
		"ip":  {"up0 203.0.113.0/25 masquerade", "up0 198.51.100.0/25 masquerade", "up0p 198.51.100.128/25 masquerade"},
		"ip6": {"up0 2001:db8:77::/64 masquerade"},
	})

	d = daemon.Start(t, dirs, "--uplink-masquerade", "up0", "--uplink-masquerade6")
	waitTables(t, dirs.Netns, want)
	d.Kill()
	d = daemon.Start(t, dirs, "--uplink-masquerade", "up0")
	delete(want, "ip6")
	waitTables(t, dirs.Netns, want)
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	waitTables(t, dirs.Netns, map[string][]string{})
}

// addStrayRule appends `oifname iface ip saddr p masquerade` to the
// daemon's IPv4 table in ns, as someone else might.
func addStrayRule(t *testing.T, ns, iface, p string) {
	t.Helper()
	pfx := netip.MustParsePrefix(p)
	mask := net.CIDRMask(pfx.Bits(), 32)
	h, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	conn, err := nftables.New(nftables.WithNetNSFd(int(h)))
	if err != nil {
		t.Fatal(err)
	}
	tb := &nftables.Table{Name: "mvirt_net", Family: nftables.TableFamilyIPv4}
	name := make([]byte, 16)
	copy(name, iface)
	conn.AddRule(&nftables.Rule{Table: tb, Chain: &nftables.Chain{Name: "postrouting", Table: tb}, Exprs: []expr.Any{
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: name},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: pfx.Addr().AsSlice()},
		&expr.Masq{},
	}})
	if err := conn.Flush(); err != nil {
		t.Fatalf("add a rule to the daemon's table: %v", err)
	}
}
