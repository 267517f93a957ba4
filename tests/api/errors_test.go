package api_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// TestBadInputChangesNothing sends every invalid request of the API
// contract, checks its code, and checks that the state is exactly as before.
func TestBadInputChangesNothing(t *testing.T) {
	// A public network opens the uplink: the daemon runs in a namespace
	// of the test's own.
	dirs := daemon.NewDirs(t)
	dirs.Netns = daemon.Netns(t)
	d := daemon.Start(t, dirs)
	c := d.Client
	n := mustNetwork(t, c, dual("prod"))
	mustNetwork(t, c, &netpb.CreateNetworkRequest{Name: "pub", Ipv4Enabled: true, Ipv4Subnet: "100.64.0.0/24", IsPublic: true})
	small := mustNetwork(t, c, &netpb.CreateNetworkRequest{Name: "small", Ipv4Enabled: true, Ipv4Subnet: "10.9.0.0/30"})
	mustNic(t, c, &netpb.CreateNicRequest{NetworkId: small.Id})
	mustNic(t, c, &netpb.CreateNicRequest{NetworkId: small.Id})
	v4only := mustNetwork(t, c, &netpb.CreateNetworkRequest{Name: "v4", Ipv4Enabled: true, Ipv4Subnet: "10.8.0.0/24"})
	a := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "vm-a", MacAddress: "52:54:00:00:00:0a",
		RoutedIpv4Prefixes: []string{"10.0.1.0/24"}})

	before := snapshot(t, c)

	netCases := map[string]struct {
		req  *netpb.CreateNetworkRequest
		code codes.Code
	}{
		"blank name":            {&netpb.CreateNetworkRequest{Name: " ", Ipv4Enabled: true, Ipv4Subnet: "10.1.0.0/24"}, codes.InvalidArgument},
		"empty name":            {&netpb.CreateNetworkRequest{Ipv4Enabled: true, Ipv4Subnet: "10.1.0.0/24"}, codes.InvalidArgument},
		"no family":             {&netpb.CreateNetworkRequest{Name: "x"}, codes.InvalidArgument},
		"malformed cidr":        {&netpb.CreateNetworkRequest{Name: "x", Ipv4Enabled: true, Ipv4Subnet: "10.1.0/24"}, codes.InvalidArgument},
		"non-canonical cidr":    {&netpb.CreateNetworkRequest{Name: "x", Ipv4Enabled: true, Ipv4Subnet: "10.1.0.1/24"}, codes.InvalidArgument},
		"v6 prefix given as v4": {&netpb.CreateNetworkRequest{Name: "x", Ipv6Enabled: true, Ipv6Prefix: "10.1.0.0/24"}, codes.InvalidArgument},
		"v4 subnet given as v6": {&netpb.CreateNetworkRequest{Name: "x", Ipv4Enabled: true, Ipv4Subnet: "fd00::/64"}, codes.InvalidArgument},
		"enabled without cidr":  {&netpb.CreateNetworkRequest{Name: "x", Ipv4Enabled: true}, codes.InvalidArgument},
		"cidr without enabled":  {&netpb.CreateNetworkRequest{Name: "x", Ipv4Subnet: "10.1.0.0/24"}, codes.InvalidArgument},
		"subnet too small":      {&netpb.CreateNetworkRequest{Name: "x", Ipv4Enabled: true, Ipv4Subnet: "10.1.0.0/32"}, codes.InvalidArgument},
		"bad dns":               {&netpb.CreateNetworkRequest{Name: "x", Ipv4Enabled: true, Ipv4Subnet: "10.1.0.0/24", DnsServers: []string{"dns.example"}}, codes.InvalidArgument},
		"bad ntp":               {&netpb.CreateNetworkRequest{Name: "x", Ipv4Enabled: true, Ipv4Subnet: "10.1.0.0/24", NtpServers: []string{"224.0.0.1"}}, codes.InvalidArgument},
		"duplicate name":        {&netpb.CreateNetworkRequest{Name: "prod", Ipv4Enabled: true, Ipv4Subnet: "10.1.0.0/24"}, codes.AlreadyExists},
		"overlapping public":    {&netpb.CreateNetworkRequest{Name: "pub2", Ipv4Enabled: true, Ipv4Subnet: "100.64.0.128/25", IsPublic: true}, codes.AlreadyExists},
	}
	for name, tc := range netCases {
		t.Run("CreateNetwork/"+name, func(t *testing.T) {
			_, err := c.CreateNetwork(ctx(t), tc.req)
			wantCode(t, err, tc.code)
		})
	}

	nicCases := map[string]struct {
		req  *netpb.CreateNicRequest
		code codes.Code
	}{
		"no network":              {&netpb.CreateNicRequest{}, codes.InvalidArgument},
		"unknown network":         {&netpb.CreateNicRequest{NetworkId: "nope"}, codes.NotFound},
		"duplicate name":          {&netpb.CreateNicRequest{NetworkId: n.Id, Name: "vm-a"}, codes.AlreadyExists},
		"address outside subnet":  {&netpb.CreateNicRequest{NetworkId: n.Id, Ipv4Address: "10.1.0.5"}, codes.InvalidArgument},
		"address in use":          {&netpb.CreateNicRequest{NetworkId: n.Id, Ipv4Address: a.Ipv4Address}, codes.AlreadyExists},
		"v6 address in use":       {&netpb.CreateNicRequest{NetworkId: n.Id, Ipv6Address: a.Ipv6Address}, codes.AlreadyExists},
		"network address":         {&netpb.CreateNicRequest{NetworkId: n.Id, Ipv4Address: "10.0.0.0"}, codes.InvalidArgument},
		"broadcast address":       {&netpb.CreateNicRequest{NetworkId: n.Id, Ipv4Address: "10.0.0.255"}, codes.InvalidArgument},
		"malformed address":       {&netpb.CreateNicRequest{NetworkId: n.Id, Ipv4Address: "10.0.0"}, codes.InvalidArgument},
		"v6 as v4 address":        {&netpb.CreateNicRequest{NetworkId: n.Id, Ipv4Address: "fd00::9"}, codes.InvalidArgument},
		"v6 on v4-only network":   {&netpb.CreateNicRequest{NetworkId: v4only.Id, Ipv6Address: "fd00::9"}, codes.InvalidArgument},
		"multicast mac":           {&netpb.CreateNicRequest{NetworkId: n.Id, MacAddress: "01:00:5e:00:00:01"}, codes.InvalidArgument},
		"broadcast mac":           {&netpb.CreateNicRequest{NetworkId: n.Id, MacAddress: "ff:ff:ff:ff:ff:ff"}, codes.InvalidArgument},
		"malformed mac":           {&netpb.CreateNicRequest{NetworkId: n.Id, MacAddress: "52:54:00:12:34"}, codes.InvalidArgument},
		"duplicate mac":           {&netpb.CreateNicRequest{NetworkId: n.Id, MacAddress: a.MacAddress}, codes.AlreadyExists},
		"full subnet":             {&netpb.CreateNicRequest{NetworkId: small.Id}, codes.ResourceExhausted},
		"malformed route":         {&netpb.CreateNicRequest{NetworkId: n.Id, RoutedIpv4Prefixes: []string{"10.5.0.0/33"}}, codes.InvalidArgument},
		"non-canonical route":     {&netpb.CreateNicRequest{NetworkId: n.Id, RoutedIpv4Prefixes: []string{"10.5.0.1/24"}}, codes.InvalidArgument},
		"v6 route as v4":          {&netpb.CreateNicRequest{NetworkId: n.Id, RoutedIpv4Prefixes: []string{"fd05::/64"}}, codes.InvalidArgument},
		"overlapping route":       {&netpb.CreateNicRequest{NetworkId: n.Id, RoutedIpv4Prefixes: []string{"10.0.1.128/25"}}, codes.AlreadyExists},
		"route over other's addr": {&netpb.CreateNicRequest{NetworkId: n.Id, RoutedIpv4Prefixes: []string{"10.0.0.0/30"}}, codes.AlreadyExists},
	}
	for name, tc := range nicCases {
		t.Run("CreateNic/"+name, func(t *testing.T) {
			_, err := c.CreateNic(ctx(t), tc.req)
			wantCode(t, err, tc.code)
		})
	}

	t.Run("GetNetwork/unknown", func(t *testing.T) {
		_, err := c.GetNetwork(ctx(t), &netpb.GetNetworkRequest{Identifier: &netpb.GetNetworkRequest_Id{Id: "00000000-0000-0000-0000-000000000000"}})
		wantCode(t, err, codes.NotFound)
	})
	t.Run("GetNetwork/empty", func(t *testing.T) {
		_, err := c.GetNetwork(ctx(t), &netpb.GetNetworkRequest{})
		wantCode(t, err, codes.InvalidArgument)
	})
	t.Run("GetNic/unknown", func(t *testing.T) {
		_, err := c.GetNic(ctx(t), &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Name{Name: "nope"}})
		wantCode(t, err, codes.NotFound)
	})
	t.Run("ListNics/unknown network", func(t *testing.T) {
		_, err := c.ListNics(ctx(t), &netpb.ListNicsRequest{NetworkId: "nope"})
		wantCode(t, err, codes.NotFound)
	})
	t.Run("UpdateNetwork/unknown", func(t *testing.T) {
		_, err := c.UpdateNetwork(ctx(t), &netpb.UpdateNetworkRequest{Id: "nope"})
		wantCode(t, err, codes.NotFound)
	})
	t.Run("UpdateNetwork/bad dns", func(t *testing.T) {
		_, err := c.UpdateNetwork(ctx(t), &netpb.UpdateNetworkRequest{Id: n.Id, DnsServers: []string{"not-an-ip"}})
		wantCode(t, err, codes.InvalidArgument)
	})
	t.Run("UpdateNic/unknown", func(t *testing.T) {
		_, err := c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: "nope"})
		wantCode(t, err, codes.NotFound)
	})
	t.Run("UpdateNic/malformed route", func(t *testing.T) {
		_, err := c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: a.Id, RoutedIpv6Prefixes: []string{"fd00::/129"}})
		wantCode(t, err, codes.InvalidArgument)
	})
	t.Run("UpdateNic/route over own address", func(t *testing.T) {
		_, err := c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: a.Id, RoutedIpv4Prefixes: []string{"10.0.0.0/24"}})
		wantCode(t, err, codes.InvalidArgument)
	})
	t.Run("DeleteNetwork/unknown", func(t *testing.T) {
		_, err := c.DeleteNetwork(ctx(t), &netpb.DeleteNetworkRequest{Id: "nope"})
		wantCode(t, err, codes.NotFound)
	})
	t.Run("DeleteNetwork/with nics", func(t *testing.T) {
		_, err := c.DeleteNetwork(ctx(t), &netpb.DeleteNetworkRequest{Id: n.Id})
		wantCode(t, err, codes.FailedPrecondition)
	})
	t.Run("DeleteNic/unknown", func(t *testing.T) {
		_, err := c.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: "nope"})
		wantCode(t, err, codes.NotFound)
	})

	after := snapshot(t, c)
	if !protoEqual(before, after) {
		t.Fatalf("bad input changed state:\nbefore %v %v\nafter  %v %v", before.nets, before.nics, after.nets, after.nics)
	}
}

// protoEqual reports whether two snapshots hold the same networks and NICs.
func protoEqual(a, b state) bool {
	return proto.Equal(a.nets, b.nets) && proto.Equal(a.nics, b.nics)
}

type state struct {
	nets *netpb.ListNetworksResponse
	nics *netpb.ListNicsResponse
}

func snapshot(t *testing.T, c netpb.NetServiceClient) state {
	t.Helper()
	nets, err := c.ListNetworks(ctx(t), &netpb.ListNetworksRequest{})
	if err != nil {
		t.Fatal(err)
	}
	nics, err := c.ListNics(ctx(t), &netpb.ListNicsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return state{nets, nics}
}
