package api_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

func getNetwork(t *testing.T, c netpb.NetServiceClient, id string) *netpb.Network {
	t.Helper()
	n, err := c.GetNetwork(ctx(t), networkByID(id))
	if err != nil {
		t.Fatalf("GetNetwork(%s): %v", id, err)
	}
	return n
}

// TestNetworkMTU creates networks with and without an MTU, with MTUs out
// of range for their families, and changes one live: every answer shows
// the MTU in force, 1500 where none was set.
func TestNetworkMTU(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client

	plain := mustNetwork(t, c, dual("plain"))
	if plain.Mtu != 1500 {
		t.Fatalf("network created without an mtu has mtu %d, want 1500", plain.Mtu)
	}
	jumbo := dual("jumbo")
	jumbo.Ipv4Subnet, jumbo.Ipv6Prefix, jumbo.Mtu = "10.1.0.0/24", "fd01::/64", 9000
	if n := mustNetwork(t, c, jumbo); n.Mtu != 9000 {
		t.Fatalf("created with mtu 9000: %v", n)
	}
	small := mustNetwork(t, c, &netpb.CreateNetworkRequest{Name: "small", Ipv4Enabled: true, Ipv4Subnet: "10.2.0.0/24", Mtu: 576})
	if small.Mtu != 576 {
		t.Fatalf("IPv4-only network with mtu 576: %v", small)
	}

	for _, bad := range []*netpb.CreateNetworkRequest{
		{Name: "b1", Ipv4Enabled: true, Ipv4Subnet: "10.3.0.0/24", Mtu: 575},
		{Name: "b2", Ipv4Enabled: true, Ipv4Subnet: "10.3.0.0/24", Mtu: 9001},
		{Name: "b3", Ipv6Enabled: true, Ipv6Prefix: "fd03::/64", Mtu: 576},
		{Name: "b4", Ipv6Enabled: true, Ipv6Prefix: "fd03::/64", Mtu: 1279},
		{Name: "b5", Ipv4Enabled: true, Ipv4Subnet: "10.3.0.0/24", Ipv6Enabled: true, Ipv6Prefix: "fd03::/64", Mtu: 1000},
		{Name: "b6", Ipv4Enabled: true, Ipv4Subnet: "10.3.0.0/24", Mtu: 1 << 31},
	} {
		_, err := c.CreateNetwork(ctx(t), bad)
		wantCode(t, err, codes.InvalidArgument)
		if !contains(err.Error(), "mtu") {
			t.Fatalf("CreateNetwork(mtu %d): error does not name the mtu: %v", bad.Mtu, err)
		}
	}
	list, err := c.ListNetworks(ctx(t), &netpb.ListNetworksRequest{})
	if err != nil || len(list.Networks) != 3 {
		t.Fatalf("ListNetworks after refused creates: %v %v", list, err)
	}
	for _, n := range list.Networks {
		want := map[string]uint32{"plain": 1500, "jumbo": 9000, "small": 576}[n.Name]
		if n.Mtu != want {
			t.Fatalf("listed %s with mtu %d, want %d", n.Name, n.Mtu, want)
		}
	}

	up, err := c.UpdateNetwork(ctx(t), &netpb.UpdateNetworkRequest{Id: plain.Id, DnsServers: plain.DnsServers, Mtu: 1400})
	if err != nil || up.Mtu != 1400 || len(up.DnsServers) != 2 {
		t.Fatalf("UpdateNetwork(mtu 1400): %v %v", up, err)
	}
	if got := getNetwork(t, c, plain.Id); got.Mtu != 1400 {
		t.Fatalf("mtu after update: %d", got.Mtu)
	}
	// An update without an mtu keeps it.
	up, err = c.UpdateNetwork(ctx(t), &netpb.UpdateNetworkRequest{Id: plain.Id, DnsServers: []string{"9.9.9.9"}})
	if err != nil || up.Mtu != 1400 {
		t.Fatalf("UpdateNetwork without an mtu: %v %v", up, err)
	}
	for _, bad := range []struct {
		id  string
		mtu uint32
	}{{plain.Id, 1279}, {plain.Id, 9216}, {small.Id, 500}} {
		_, err := c.UpdateNetwork(ctx(t), &netpb.UpdateNetworkRequest{Id: bad.id, Mtu: bad.mtu})
		wantCode(t, err, codes.InvalidArgument)
	}
	if got := getNetwork(t, c, plain.Id); got.Mtu != 1400 || len(got.DnsServers) != 1 {
		t.Fatalf("refused updates changed the network: %v", got)
	}
	if got := getNetwork(t, c, small.Id); got.Mtu != 576 {
		t.Fatalf("refused update changed the network: %v", got)
	}
}

// TestNetworkMTUSurvivesRestart restarts the daemon: the MTUs set come
// back, and a network stored without one (as before networks had an MTU)
// loads with 1500.
func TestNetworkMTUSurvivesRestart(t *testing.T) {
	dirs := daemon.NewDirs(t)
	d := daemon.Start(t, dirs)
	c := d.Client
	a := mustNetwork(t, c, &netpb.CreateNetworkRequest{Name: "a", Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/24", Mtu: 9000})
	b := mustNetwork(t, c, &netpb.CreateNetworkRequest{Name: "b", Ipv6Enabled: true, Ipv6Prefix: "fd00::/64", Mtu: 4000})
	if _, err := c.UpdateNetwork(ctx(t), &netpb.UpdateNetworkRequest{Id: b.Id, Mtu: 1280}); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	d = daemon.Start(t, dirs)
	if got := getNetwork(t, d.Client, a.Id); got.Mtu != 9000 {
		t.Fatalf("after restart network a has mtu %d, want 9000", got.Mtu)
	}
	if got := getNetwork(t, d.Client, b.Id); got.Mtu != 1280 {
		t.Fatalf("after restart network b has mtu %d, want 1280", got.Mtu)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	rewriteRaw(t, dirs.MetadataDir, "net/"+a.Id, `"mtu":9000,`, ``)
	d = daemon.Start(t, dirs)
	if got := getNetwork(t, d.Client, a.Id); got.Mtu != 1500 {
		t.Fatalf("network stored without an mtu has mtu %d, want 1500", got.Mtu)
	}
}
