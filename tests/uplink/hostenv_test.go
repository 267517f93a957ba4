package uplink_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// ip runs `ip -n ns args...` and fails the test on error.
func ip(t *testing.T, ns string, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestPublicSubnetOverlapsHostRoute: a public subnet inside a route the
// host already has (neither the daemon's nor the default route) is
// created and routed, and the log warns naming the host's route.
func TestPublicSubnetOverlapsHostRoute(t *testing.T) {
	needRoot(t)
	dirs := daemon.NewDirs(t)
	dirs.Netns = daemon.Netns(t)
	ip(t, dirs.Netns, "link", "add", "lan0", "type", "veth", "peer", "name", "lan0p")
	ip(t, dirs.Netns, "link", "set", "lan0", "up")
	ip(t, dirs.Netns, "link", "set", "lan0p", "up")
	ip(t, dirs.Netns, "route", "add", "203.0.113.0/24", "dev", "lan0")
	d := daemon.Start(t, dirs)
	n := create(t, d.Client, &netpb.CreateNetworkRequest{Name: "pub", Ipv4Enabled: true, Ipv4Subnet: "203.0.113.0/25", IsPublic: true})
	if u := n.GetUplink(); !u.GetUp() {
		t.Fatalf("uplink of a public subnet overlapping a host route = %v, want up", u)
	}
	wantRoutes(t, dirs.Netns, "203.0.113.0/25")
	const warn = "a public prefix overlaps a route of the host"
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		log := d.Log()
		i := strings.Index(log, warn)
		if i >= 0 {
			line, _, _ := strings.Cut(log[i:], "\n")
			if !strings.Contains(line, "203.0.113.0/25") || !strings.Contains(line, "203.0.113.0/24 dev lan0") {
				t.Fatalf("overlap warning does not name the prefix and the host's route: %s", line)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no warning %q in the log:\n%s", warn, log)
		}
	}
}

// TestNoUplinkWithoutTunDevice: a daemon that finds no /dev/net/tun (a
// mount namespace of its own with an empty /dev/net) refuses a public
// network with FailedPrecondition naming the reason, and changes
// nothing: no network, no device, no route.
func TestNoUplinkWithoutTunDevice(t *testing.T) {
	needRoot(t)
	dirs := daemon.NewDirs(t)
	dirs.Netns = daemon.Netns(t)
	dirs.Wrap = []string{"unshare", "--mount", "--", "sh", "-c", `mount -t tmpfs tmpfs /dev/net && exec "$0" "$@"`}
	d := daemon.Start(t, dirs)
	c := d.Client
	create(t, c, &netpb.CreateNetworkRequest{Name: "private", Ipv4Enabled: true, Ipv4Subnet: "10.77.0.0/24"})
	before, err := c.ListNetworks(ctx(t), &netpb.ListNetworksRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{Name: "pub", Ipv4Enabled: true, Ipv4Subnet: "203.0.113.0/25", IsPublic: true})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "uplink unavailable") ||
		!strings.Contains(err.Error(), "/dev/net/tun") {
		t.Fatalf("CreateNetwork public without /dev/net/tun: %v, want FailedPrecondition naming the reason", err)
	}
	after, err := c.ListNetworks(ctx(t), &netpb.ListNetworksRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Networks) != len(before.Networks) {
		t.Fatalf("a refused public network changed the networks: %d, then %d", len(before.Networks), len(after.Networks))
	}
	if _, err := c.GetNetwork(ctx(t), &netpb.GetNetworkRequest{Identifier: &netpb.GetNetworkRequest_Name{Name: "pub"}}); status.Code(err) != codes.NotFound {
		t.Fatalf("GetNetwork of the refused public network: %v, want NotFound", err)
	}
	if exec.Command("ip", "-n", dirs.Netns, "link", "show", "mvirt0").Run() == nil {
		t.Fatal("mvirt0 exists though the uplink could not be opened")
	}
	if got := ourRoutes(t, dirs.Netns); len(got) != 0 {
		t.Fatalf("routes of protocol 210 after a refused public network: %q", got)
	}
	if _, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: "private", Name: "vm"}); err != nil {
		t.Fatalf("a network that is not public is not served without /dev/net/tun: %v", err)
	}
}
