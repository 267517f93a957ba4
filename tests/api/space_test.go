package api_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// TestSpecialSpaceRefused sends subnets, routed prefixes and servers in
// address space no VM can use: each is InvalidArgument with a reason that
// names the space, and changes nothing.
func TestSpecialSpaceRefused(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	n := mustNetwork(t, c, dual("prod"))
	a := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "vm-a"})
	before := snapshot(t, c)

	v4 := func(cidr string) *netpb.CreateNetworkRequest {
		return &netpb.CreateNetworkRequest{Name: "x", Ipv4Enabled: true, Ipv4Subnet: cidr}
	}
	v6 := func(cidr string) *netpb.CreateNetworkRequest {
		return &netpb.CreateNetworkRequest{Name: "x", Ipv6Enabled: true, Ipv6Prefix: cidr}
	}
	dns := func(s string) *netpb.CreateNetworkRequest {
		r := v4("10.50.0.0/24")
		r.DnsServers = []string{s}
		return r
	}
	ntp := func(s string) *netpb.CreateNetworkRequest {
		r := v4("10.50.0.0/24")
		r.NtpServers = []string{s}
		return r
	}
	networks := []struct {
		name   string
		req    *netpb.CreateNetworkRequest
		reason string
	}{
		{"gateway's v4 link-local /24", v4("169.254.0.0/24"), "link-local"},
		{"other v4 link-local", v4("169.254.10.0/24"), "link-local"},
		{"gateway's v6 link-local /64", v6("fe80::/64"), "link-local"},
		{"v4 everything", v4("0.0.0.0/0"), "whole address space"},
		{"v6 everything", v6("::/0"), "whole address space"},
		{"v4 multicast", v4("224.0.0.0/24"), "multicast"},
		{"v6 multicast", v6("ff02::/64"), "multicast"},
		{"v4 loopback", v4("127.0.0.0/24"), "loopback"},
		{"v6 loopback and unspecified", v6("::/127"), "unspecified"},
		{"v4 this network", v4("0.0.0.0/24"), "unspecified"},
		{"v6 unspecified", v6("::/64"), "unspecified"},
		{"v4 broadcast", v4("255.255.255.0/24"), "broadcast"},
		{"v6 holding v4-mapped", v6("::ffff:0:0/104"), "IPv4-mapped"},
		{"v6 over v4-mapped", v6("0:0:0:0:0:ffff::/96"), "IPv4-mapped"},
		{"v6 around v4-mapped", v6("::/80"), "unspecified"},
		{"non-canonical v4", v4("10.50.0.1/24"), "host bits"},
		{"non-canonical v6", v6("fd50::1/64"), "host bits"},
		{"dns loopback", dns("127.0.0.1"), "loopback"},
		{"dns v6 loopback", dns("::1"), "loopback"},
		{"dns broadcast", dns("255.255.255.255"), "broadcast"},
		{"dns unspecified", dns("0.0.0.0"), "unspecified"},
		{"dns v6 unspecified", dns("::"), "unspecified"},
		{"dns multicast", dns("224.0.0.251"), "multicast"},
		{"dns v6 multicast", dns("ff02::fb"), "multicast"},
		{"dns v4-mapped", dns("::ffff:1.1.1.1"), "IPv4-mapped"},
		{"dns with zone", dns("fe80::1%eth0"), "zone"},
		{"ntp loopback", ntp("127.0.0.53"), "loopback"},
		{"ntp broadcast", ntp("255.255.255.255"), "broadcast"},
		{"ntp v4-mapped", ntp("::ffff:192.0.2.1"), "IPv4-mapped"},
	}
	for _, tc := range networks {
		t.Run("CreateNetwork/"+tc.name, func(t *testing.T) {
			_, err := c.CreateNetwork(ctx(t), tc.req)
			wantReason(t, err, tc.reason)
		})
	}
	t.Run("UpdateNetwork/dns broadcast", func(t *testing.T) {
		_, err := c.UpdateNetwork(ctx(t), &netpb.UpdateNetworkRequest{Id: n.Id, DnsServers: []string{"255.255.255.255"}})
		wantReason(t, err, "broadcast")
	})

	routes := []struct {
		name   string
		v4, v6 []string
		reason string
	}{
		{"v4 default", []string{"0.0.0.0/0"}, nil, "whole address space"},
		{"v6 default", nil, []string{"::/0"}, "whole address space"},
		{"v4 multicast", []string{"239.1.0.0/16"}, nil, "multicast"},
		{"v6 multicast", nil, []string{"ff05::/16"}, "multicast"},
		{"v4 loopback", []string{"127.0.0.1/32"}, nil, "loopback"},
		{"v6 loopback", nil, []string{"::1/128"}, "loopback"},
		{"v4 link-local", []string{"169.254.0.0/16"}, nil, "link-local"},
		{"v4 gateway", []string{"169.254.0.1/32"}, nil, "link-local"},
		{"v6 link-local", nil, []string{"fe80::/64"}, "link-local"},
		{"v4 unspecified", []string{"0.0.0.0/32"}, nil, "unspecified"},
		{"v6 unspecified", nil, []string{"::/128"}, "unspecified"},
		{"v4 broadcast", []string{"255.255.255.255/32"}, nil, "broadcast"},
		{"v6 v4-mapped", nil, []string{"::ffff:10.0.0.0/120"}, "IPv4-mapped"},
		{"non-canonical", []string{"10.60.0.1/24"}, nil, "host bits"},
		{"one bad among good", []string{"10.60.0.0/24", "10.61.0.0/24", "224.0.0.0/4"}, nil, "multicast"},
		{"overlap in request", []string{"10.60.0.0/16", "10.61.0.0/24", "10.60.7.0/24"}, nil, "overlaps"},
		{"overlap in request, shorter later", nil, []string{"fd60:0:1::/64", "fd60::/32"}, "overlaps"},
	}
	for _, tc := range routes {
		t.Run("CreateNic/"+tc.name, func(t *testing.T) {
			_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: n.Id, RoutedIpv4Prefixes: tc.v4, RoutedIpv6Prefixes: tc.v6})
			wantReason(t, err, tc.reason)
		})
		t.Run("UpdateNic/"+tc.name, func(t *testing.T) {
			_, err := c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: a.Id, RoutedIpv4Prefixes: tc.v4, RoutedIpv6Prefixes: tc.v6})
			wantReason(t, err, tc.reason)
		})
	}

	t.Run("CreateNic/v4-mapped address", func(t *testing.T) {
		_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: n.Id, Ipv6Address: "::ffff:10.0.0.5"})
		wantReason(t, err, "IPv4-mapped")
	})

	after := snapshot(t, c)
	if !protoEqual(before, after) {
		t.Fatalf("refused requests changed state:\nbefore %v %v\nafter  %v %v", before.nets, before.nics, after.nets, after.nics)
	}
	// Neighbours of the refused space still work.
	mustNetwork(t, c, &netpb.CreateNetworkRequest{Name: "edge", Ipv4Enabled: true, Ipv4Subnet: "169.253.255.0/24",
		Ipv6Enabled: true, Ipv6Prefix: "fec0::/64", DnsServers: []string{"1.0.0.1", "2001:db8::53"}})
	mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, RoutedIpv4Prefixes: []string{"1.0.0.0/8", "126.0.0.0/8"},
		RoutedIpv6Prefixes: []string{"2001:db8::/32"}})
}

// wantReason checks err is InvalidArgument and says reason.
func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	wantCode(t, err, codes.InvalidArgument)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, reason) {
		t.Fatalf("error %q does not say %q", msg, reason)
	}
}
