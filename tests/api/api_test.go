// Package api_test drives the real mvirt-net daemon over its gRPC listener:
// every RPC, every bad-input case of the API contract, concurrency, and
// restarts on the same directories.
package api_test

import (
	"context"
	"net"
	"testing"
	"time"

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

func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("got %v, want code %v", err, code)
	}
	if code != codes.OK && status.Convert(err).Message() == "" {
		t.Fatalf("error without a message: %v", err)
	}
}

func mustNetwork(t *testing.T, c netpb.NetServiceClient, req *netpb.CreateNetworkRequest) *netpb.Network {
	t.Helper()
	n, err := c.CreateNetwork(ctx(t), req)
	if err != nil {
		t.Fatalf("CreateNetwork(%v): %v", req, err)
	}
	return n
}

func mustNic(t *testing.T, c netpb.NetServiceClient, req *netpb.CreateNicRequest) *netpb.Nic {
	t.Helper()
	n, err := c.CreateNic(ctx(t), req)
	if err != nil {
		t.Fatalf("CreateNic(%v): %v", req, err)
	}
	return n
}

func dual(name string) *netpb.CreateNetworkRequest {
	return &netpb.CreateNetworkRequest{
		Name: name, Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/24",
		Ipv6Enabled: true, Ipv6Prefix: "fd00::/64",
		DnsServers: []string{"1.1.1.1", "2606:4700:4700::1111"}, NtpServers: []string{"192.0.2.123"},
	}
}

// socketListens reports whether a unix socket accepts a connection.
func socketListens(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

func TestVersionAndNetworkLifecycle(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client

	v, err := c.GetVersion(ctx(t), &netpb.GetVersionRequest{})
	if err != nil || v.Version == "" {
		t.Fatalf("GetVersion: %v %v", v, err)
	}

	n := mustNetwork(t, c, dual("prod"))
	if n.Id == "" || n.Name != "prod" || !n.Ipv4Enabled || !n.Ipv6Enabled || n.Ipv4Subnet != "10.0.0.0/24" ||
		n.Ipv6Prefix != "fd00::/64" || n.NicCount != 0 || n.CreatedAt == "" || len(n.DnsServers) != 2 {
		t.Fatalf("created network: %v", n)
	}
	if _, err := time.Parse(time.RFC3339, n.CreatedAt); err != nil {
		t.Fatalf("created_at %q is not RFC 3339: %v", n.CreatedAt, err)
	}
	for _, req := range []*netpb.GetNetworkRequest{
		{Identifier: &netpb.GetNetworkRequest_Id{Id: n.Id}},
		{Identifier: &netpb.GetNetworkRequest_Name{Name: "prod"}},
	} {
		got, err := c.GetNetwork(ctx(t), req)
		if err != nil || got.Id != n.Id {
			t.Fatalf("GetNetwork(%v): %v %v", req, got, err)
		}
	}
	v6only := mustNetwork(t, c, &netpb.CreateNetworkRequest{Name: "v6", Ipv6Enabled: true, Ipv6Prefix: "fd01::/64"})
	if v6only.Ipv4Enabled {
		t.Fatalf("ipv6-only network has ipv4: %v", v6only)
	}
	list, err := c.ListNetworks(ctx(t), &netpb.ListNetworksRequest{})
	if err != nil || len(list.Networks) != 2 || list.Networks[0].Name != "prod" || list.Networks[1].Name != "v6" {
		t.Fatalf("ListNetworks: %v %v", list, err)
	}

	up, err := c.UpdateNetwork(ctx(t), &netpb.UpdateNetworkRequest{Id: n.Id, DnsServers: []string{"9.9.9.9"}, NtpServers: nil})
	if err != nil || len(up.DnsServers) != 1 || up.DnsServers[0] != "9.9.9.9" || len(up.NtpServers) != 0 {
		t.Fatalf("UpdateNetwork: %v %v", up, err)
	}
	got, _ := c.GetNetwork(ctx(t), &netpb.GetNetworkRequest{Identifier: &netpb.GetNetworkRequest_Id{Id: n.Id}})
	if got.DnsServers[0] != "9.9.9.9" {
		t.Fatalf("update not visible: %v", got)
	}

	del, err := c.DeleteNetwork(ctx(t), &netpb.DeleteNetworkRequest{Id: v6only.Id})
	if err != nil || !del.Deleted || del.NicsDeleted != 0 {
		t.Fatalf("DeleteNetwork: %v %v", del, err)
	}
	_, err = c.GetNetwork(ctx(t), &netpb.GetNetworkRequest{Identifier: &netpb.GetNetworkRequest_Id{Id: v6only.Id}})
	wantCode(t, err, codes.NotFound)
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestNicLifecycle(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	n := mustNetwork(t, c, dual("prod"))

	a := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: "prod", Name: "vm-a"})
	if a.Ipv4Address != "10.0.0.1" || a.Ipv6Address != "fd00::1" || a.NetworkId != n.Id ||
		a.State != netpb.NicState_NIC_STATE_CREATED || a.MacAddress == "" {
		t.Fatalf("nic a: %v", a)
	}
	mac, err := net.ParseMAC(a.MacAddress)
	if err != nil || mac[0]&1 != 0 || mac[0]&2 == 0 {
		t.Fatalf("generated MAC %q is not locally administered unicast", a.MacAddress)
	}
	if !socketListens(a.SocketPath) {
		t.Fatalf("socket %s does not listen after CreateNic", a.SocketPath)
	}
	b := mustNic(t, c, &netpb.CreateNicRequest{
		NetworkId: n.Id, Name: "router", MacAddress: "52:54:00:12:34:56",
		Ipv4Address: "10.0.0.5", Ipv6Address: "fd00::5",
		RoutedIpv4Prefixes: []string{"10.0.1.0/24", "10.0.2.0/24"}, RoutedIpv6Prefixes: []string{"fd00:1::/64"},
	})
	if b.MacAddress != "52:54:00:12:34:56" || b.Ipv4Address != "10.0.0.5" || len(b.RoutedIpv4Prefixes) != 2 {
		t.Fatalf("nic b: %v", b)
	}
	third := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: "prod"})
	if third.Ipv4Address != "10.0.0.2" || third.Name != "" {
		t.Fatalf("lowest free address not taken: %v", third)
	}

	for _, req := range []*netpb.GetNicRequest{
		{Identifier: &netpb.GetNicRequest_Id{Id: a.Id}},
		{Identifier: &netpb.GetNicRequest_Name{Name: "vm-a"}},
	} {
		got, err := c.GetNic(ctx(t), req)
		if err != nil || got.Id != a.Id || got.SocketPath != a.SocketPath {
			t.Fatalf("GetNic(%v): %v %v", req, got, err)
		}
	}
	net2 := mustNetwork(t, c, &netpb.CreateNetworkRequest{Name: "other", Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/24"})
	mustNic(t, c, &netpb.CreateNicRequest{NetworkId: net2.Id, Name: "vm-other"})
	all, err := c.ListNics(ctx(t), &netpb.ListNicsRequest{})
	if err != nil || len(all.Nics) != 4 {
		t.Fatalf("ListNics: %v %v", all, err)
	}
	only, err := c.ListNics(ctx(t), &netpb.ListNicsRequest{NetworkId: "prod"})
	if err != nil || len(only.Nics) != 3 {
		t.Fatalf("ListNics(prod): %v %v", only, err)
	}
	got, _ := c.GetNetwork(ctx(t), &netpb.GetNetworkRequest{Identifier: &netpb.GetNetworkRequest_Id{Id: n.Id}})
	if got.NicCount != 3 {
		t.Fatalf("nic_count %d, want 3", got.NicCount)
	}

	up, err := c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: b.Id, RoutedIpv4Prefixes: []string{"10.0.3.0/24"}})
	if err != nil || len(up.RoutedIpv4Prefixes) != 1 || up.RoutedIpv4Prefixes[0] != "10.0.3.0/24" || len(up.RoutedIpv6Prefixes) != 0 {
		t.Fatalf("UpdateNic: %v %v", up, err)
	}

	_, err = c.DeleteNetwork(ctx(t), &netpb.DeleteNetworkRequest{Id: n.Id})
	wantCode(t, err, codes.FailedPrecondition)

	dn, err := c.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: a.Id})
	if err != nil || !dn.Deleted {
		t.Fatalf("DeleteNic: %v %v", dn, err)
	}
	if socketListens(a.SocketPath) {
		t.Fatalf("socket %s still listens after DeleteNic", a.SocketPath)
	}
	again := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: "prod", Name: "vm-a"})
	if again.Ipv4Address != "10.0.0.1" {
		t.Fatalf("freed address not reused: %v", again)
	}

	del, err := c.DeleteNetwork(ctx(t), &netpb.DeleteNetworkRequest{Id: n.Id, Force: true})
	if err != nil || !del.Deleted || del.NicsDeleted != 3 {
		t.Fatalf("DeleteNetwork(force): %v %v", del, err)
	}
	if socketListens(b.SocketPath) {
		t.Fatalf("socket %s still listens after forced network delete", b.SocketPath)
	}
	_, err = c.GetNic(ctx(t), &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Id{Id: b.Id}})
	wantCode(t, err, codes.NotFound)
	rest, _ := c.ListNics(ctx(t), &netpb.ListNicsRequest{})
	if len(rest.Nics) != 1 {
		t.Fatalf("nics left: %v", rest)
	}
}
