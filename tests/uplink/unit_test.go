package uplink_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// TestPublicNetworkUnderTheUnitsPrivileges runs the daemon, in a network
// namespace of the test's own, as mvirt-net.service would: as an
// unprivileged user with exactly the unit's capabilities (CAP_NET_ADMIN).
// That is enough for the uplink: a public network opens the TUN device,
// sets it up with its sysctls, turns forwarding on (--uplink-forwarding),
// installs the routes and the masquerade table (--uplink-masquerade), and
// takes them away again, also across a SIGKILL and restart.
func TestPublicNetworkUnderTheUnitsPrivileges(t *testing.T) {
	needRoot(t)
	dirs := daemon.NewDirs(t)
	dirs.Netns = daemon.Netns(t)
	if out, err := exec.Command("ip", "-n", dirs.Netns, "link", "add", "up0", "type", "veth", "peer", "name", "up0p").CombinedOutput(); err != nil {
		t.Fatalf("outside interface: %v\n%s", err, out)
	}
	unit := daemon.UnitPrivileges(t, dirs)
	if st, err := os.Stat("/dev/net/tun"); err != nil || st.Mode().Perm()&0o006 != 0o006 {
		t.Fatalf("/dev/net/tun must be usable by the unit's user (DeviceAllow=/dev/net/tun rw): %v %v", st, err)
	}
	opts := daemon.Options{Wrap: unit.Wrap, Args: []string{"--uplink-masquerade", "up0", "--uplink-forwarding"}}
	d := daemon.StartWith(t, dirs, opts)
	unit.Check(t, d.Pid())
	c := d.Client
	pub := create(t, c, &netpb.CreateNetworkRequest{Name: "pub", Ipv4Enabled: true, Ipv4Subnet: "203.0.113.0/25",
		Ipv6Enabled: true, Ipv6Prefix: "2001:db8:77::/64", IsPublic: true})
	if u := pub.GetUplink(); !u.GetUp() || u.GetDevice() != "mvirt0" {
		t.Fatalf("public network's uplink under the unit's privileges = %v, want up on mvirt0", u)
	}
	masq := map[string][]string{"ip": {"up0 203.0.113.0/25 masquerade", "up0 198.51.100.64/27 masquerade"}}
	nic, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: "pub", Name: "router", RoutedIpv4Prefixes: []string{"198.51.100.64/27"}})
	if err != nil {
		t.Fatal(err)
	}
	wantRoutes(t, dirs.Netns, "203.0.113.0/25", "2001:db8:77::/64", "198.51.100.64/27")
	waitTables(t, dirs.Netns, masq)
	for _, key := range []string{"net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding"} {
		out, err := exec.Command("ip", "netns", "exec", dirs.Netns, "cat", "/proc/sys/"+key).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "1" {
			t.Fatalf("%s in the daemon's namespace = %q (%v), want 1 from --uplink-forwarding", key, out, err)
		}
	}
	if strings.Contains(d.Log(), "level=ERROR") {
		t.Fatalf("the daemon logged errors under the unit's privileges:\n%s", d.Log())
	}

	d.Kill()
	d = daemon.StartWith(t, dirs, opts)
	c = d.Client
	wantRoutes(t, dirs.Netns, "203.0.113.0/25", "2001:db8:77::/64", "198.51.100.64/27")
	waitTables(t, dirs.Netns, masq)
	if _, err := c.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: nic.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteNetwork(ctx(t), &netpb.DeleteNetworkRequest{Id: pub.Id}); err != nil {
		t.Fatal(err)
	}
	wantRoutes(t, dirs.Netns)
	waitTables(t, dirs.Netns, map[string][]string{})
}
