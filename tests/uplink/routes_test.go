// Package uplink_test runs the real daemon inside a network namespace of
// the test's own (the "host") and checks what it does to that kernel for
// public networks: routes of its own protocol, masquerading, and refusing
// public networks when it cannot open the uplink.
package uplink_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	mathbits "math/bits"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netns"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
}

// ourRoutes lists the routes of the daemon's protocol (210) in ns, both
// families, sorted.
func ourRoutes(t *testing.T, ns string) []string {
	t.Helper()
	var out []string
	for _, fam := range []string{"-4", "-6"} {
		b, err := exec.Command("ip", "-n", ns, fam, "route", "show", "proto", "210").CombinedOutput()
		if err != nil {
			t.Fatalf("ip route in %s: %v\n%s", ns, err, b)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if f := strings.Fields(line); len(f) > 0 {
				out = append(out, f[0])
			}
		}
	}
	slices.Sort(out)
	return out
}

// wantRoutes waits (the daemon syncs its routes right after it answers)
// until ns holds exactly want.
func wantRoutes(t *testing.T, ns string, want ...string) {
	t.Helper()
	slices.Sort(want)
	var got []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = ourRoutes(t, ns); slices.Equal(got, want) {
			return
		}
	}
	t.Fatalf("routes of protocol 210 in the host namespace = %q, want %q", got, want)
}

func create(t *testing.T, c netpb.NetServiceClient, req *netpb.CreateNetworkRequest) *netpb.Network {
	t.Helper()
	n, err := c.CreateNetwork(ctx(t), req)
	if err != nil {
		t.Fatalf("CreateNetwork %s: %v", req.GetName(), err)
	}
	return n
}

// TestKernelRoutesFollowPublicNetworks: the host's routing table holds
// exactly the daemon's routes for public networks (subnets, prefixes,
// NICs' routed prefixes outside them) after create, UpdateNic, delete,
// and after a SIGKILL and a restart; a network that is not public gets
// none, and the last public network's deletion removes the uplink.
func TestKernelRoutesFollowPublicNetworks(t *testing.T) {
	needRoot(t)
	dirs := daemon.NewDirs(t)
	dirs.Netns = daemon.Netns(t)
	d := daemon.Start(t, dirs)
	c := d.Client
	pub := create(t, c, &netpb.CreateNetworkRequest{Name: "pub", Ipv4Enabled: true, Ipv4Subnet: "203.0.113.0/25",
		Ipv6Enabled: true, Ipv6Prefix: "2001:db8:77::/64", IsPublic: true})
	create(t, c, &netpb.CreateNetworkRequest{Name: "private", Ipv4Enabled: true, Ipv4Subnet: "10.77.0.0/24"})
	if u := pub.GetUplink(); !u.GetUp() || u.GetDevice() != "mvirt0" {
		t.Fatalf("public network's uplink = %v, want up on mvirt0", u)
	}
	wantRoutes(t, dirs.Netns, "203.0.113.0/25", "2001:db8:77::/64")

	nic, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: "pub", Name: "router",
		RoutedIpv4Prefixes: []string{"198.51.100.64/27"}, RoutedIpv6Prefixes: []string{"2001:db8:78::/64"}})
	if err != nil {
		t.Fatal(err)
	}
	wantRoutes(t, dirs.Netns, "203.0.113.0/25", "2001:db8:77::/64", "198.51.100.64/27", "2001:db8:78::/64")

	if _, err := c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: nic.Id, RoutedIpv4Prefixes: []string{"198.51.100.96/27"}}); err != nil {
		t.Fatal(err)
	}
	wantRoutes(t, dirs.Netns, "203.0.113.0/25", "2001:db8:77::/64", "198.51.100.96/27")

	d.Kill()
	d = daemon.Start(t, dirs)
	c = d.Client
	wantRoutes(t, dirs.Netns, "203.0.113.0/25", "2001:db8:77::/64", "198.51.100.96/27")

	if _, err := c.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: nic.Id}); err != nil {
		t.Fatal(err)
	}
	wantRoutes(t, dirs.Netns, "203.0.113.0/25", "2001:db8:77::/64")
	if _, err := c.DeleteNetwork(ctx(t), &netpb.DeleteNetworkRequest{Id: pub.Id}); err != nil {
		t.Fatal(err)
	}
	wantRoutes(t, dirs.Netns)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if exec.Command("ip", "-n", dirs.Netns, "link", "show", "mvirt0").Run() != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("mvirt0 still exists after the last public network was deleted")
		}
	}
}

// natTables lists the rules of the daemon's nftables tables in ns by
// table family ("ip", "ip6"), each as "IFACE PREFIX masquerade", sorted.
func natTables(t *testing.T, ns string) map[string][]string {
	t.Helper()
	h, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	conn, err := nftables.New(nftables.WithNetNSFd(int(h)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for fam, name := range map[nftables.TableFamily]string{nftables.TableFamilyIPv4: "ip", nftables.TableFamilyIPv6: "ip6"} {
		tables, err := conn.ListTablesOfFamily(fam)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range tables {
			if tb.Name != "mvirt_net" {
				continue
			}
			rules, err := conn.GetRules(tb, &nftables.Chain{Name: "postrouting", Table: tb})
			if err != nil {
				t.Fatal(err)
			}
			list := []string{}
			for _, r := range rules {
				list = append(list, describeRule(r))
			}
			slices.Sort(list)
			out[name] = list
		}
	}
	return out
}

// describeRule says what a rule of the daemon's table matches and does:
// the output interface and source prefix it compares, then its verdict
// ("masquerade", or "?" for anything else).
func describeRule(r *nftables.Rule) string {
	var iface, addr, verdict string
	bits := -1
	for _, e := range r.Exprs {
		switch e := e.(type) {
		case *expr.Cmp:
			if iface == "" {
				iface = string(bytes.TrimRight(e.Data, "\x00"))
			} else if a, ok := netip.AddrFromSlice(e.Data); ok {
				addr = a.String()
			}
		case *expr.Bitwise:
			bits = 0
			for _, b := range e.Mask {
				bits += mathbits.OnesCount8(b)
			}
		case *expr.Masq:
			verdict = "masquerade"
		}
	}
	if verdict == "" {
		verdict = "?"
	}
	return fmt.Sprintf("%s %s/%d %s", iface, addr, bits, verdict)
}

// TestMasqueradeTable: --uplink-masquerade installs the daemon's own
// nftables table with a rule per public IPv4 subnet (IPv6 only with
// --uplink-masquerade6), replaces it whole when public networks change,
// and removes it at a clean stop.
func TestMasqueradeTable(t *testing.T) {
	needRoot(t)
	dirs := daemon.NewDirs(t)
	dirs.Netns = daemon.Netns(t)
	if out, err := exec.Command("ip", "-n", dirs.Netns, "link", "add", "up0", "type", "veth", "peer", "name", "up0p").CombinedOutput(); err != nil {
		t.Fatalf("outside interface: %v\n%s", err, out)
	}
	for _, six := range []bool{false, true} {
		args := []string{"--uplink-masquerade", "up0"}
		if six {
			args = append(args, "--uplink-masquerade6")
		}
		d := daemon.Start(t, dirs, args...)
		c := d.Client
		name := "pub4"
		if six {
			name = "pub6"
		}
		n := create(t, c, &netpb.CreateNetworkRequest{Name: name, Ipv4Enabled: true, Ipv4Subnet: "203.0.113.0/25",
			Ipv6Enabled: true, Ipv6Prefix: "2001:db8:77::/64", IsPublic: true})
		want := map[string][]string{"ip": {"up0 203.0.113.0/25 masquerade"}}
		if six {
			want["ip6"] = []string{"up0 2001:db8:77::/64 masquerade"}
		}
		waitTables(t, dirs.Netns, want)
		create(t, c, &netpb.CreateNetworkRequest{Name: name + "b", Ipv4Enabled: true, Ipv4Subnet: "198.51.100.0/25", IsPublic: true})
		want["ip"] = []string{"up0 203.0.113.0/25 masquerade", "up0 198.51.100.0/25 masquerade"}
		waitTables(t, dirs.Netns, want)
		if err := d.Stop(); err != nil {
			t.Fatal(err)
		}
		waitTables(t, dirs.Netns, map[string][]string{})
		d = daemon.Start(t, dirs, args...)
		waitTables(t, dirs.Netns, want)
		for _, id := range []string{n.Id, name + "b"} {
			if _, err := d.Client.DeleteNetwork(ctx(t), &netpb.DeleteNetworkRequest{Id: id}); err != nil {
				t.Fatal(err)
			}
		}
		waitTables(t, dirs.Netns, map[string][]string{})
		if err := d.Stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// waitTables waits until the daemon's tables in ns hold exactly want
// (see natTables).
func waitTables(t *testing.T, ns string, want map[string][]string) {
	t.Helper()
	for _, rules := range want {
		slices.Sort(rules)
	}
	var got map[string][]string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = natTables(t, ns); maps.EqualFunc(got, want, slices.Equal) {
			return
		}
	}
	t.Fatalf("masquerade rules by table family = %q, want %q", got, want)
}

// TestNoUplinkWithoutNetAdmin: a daemon without CAP_NET_ADMIN refuses a
// public network with FailedPrecondition and changes nothing; started on
// a store that holds one, it serves every other network and shows the
// uplink down, with the reason.
func TestNoUplinkWithoutNetAdmin(t *testing.T) {
	needRoot(t)
	dirs := daemon.NewDirs(t)
	dirs.Netns = daemon.Netns(t)
	d := daemon.Start(t, dirs)
	create(t, d.Client, &netpb.CreateNetworkRequest{Name: "pub", Ipv4Enabled: true, Ipv4Subnet: "203.0.113.0/25", IsPublic: true})
	create(t, d.Client, &netpb.CreateNetworkRequest{Name: "private", Ipv4Enabled: true, Ipv4Subnet: "10.77.0.0/24"})
	d.Kill()

	dirs.Wrap = []string{"setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin", "--"}
	d = daemon.Start(t, dirs)
	c := d.Client
	n, err := c.GetNetwork(ctx(t), &netpb.GetNetworkRequest{Identifier: &netpb.GetNetworkRequest_Name{Name: "pub"}})
	if err != nil {
		t.Fatal(err)
	}
	if u := n.GetUplink(); u.GetUp() || !strings.Contains(u.GetReason(), "uplink unavailable") {
		t.Fatalf("uplink of a stored public network without CAP_NET_ADMIN = %v, want down with the reason", u)
	}
	if _, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: "private", Name: "vm"}); err != nil {
		t.Fatalf("a network that is not public is not served: %v", err)
	}
	before, err := c.ListNetworks(ctx(t), &netpb.ListNetworksRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{Name: "pub2", Ipv4Enabled: true, Ipv4Subnet: "198.51.100.0/25", IsPublic: true})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "uplink unavailable") {
		t.Fatalf("CreateNetwork public without CAP_NET_ADMIN: %v, want FailedPrecondition naming the reason", err)
	}
	after, err := c.ListNetworks(ctx(t), &netpb.ListNetworksRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Networks) != len(before.Networks) {
		t.Fatalf("a refused public network changed the networks: %d, then %d", len(before.Networks), len(after.Networks))
	}
	if m := d.DebugGet("/metrics"); !strings.Contains(m, `mvirt_net_uplink_up{device="mvirt0"} 0`) {
		t.Errorf("/metrics does not show the uplink down")
	}
}
