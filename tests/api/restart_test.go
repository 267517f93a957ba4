package api_test

import (
	"fmt"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

func TestConcurrentCreateNicNoDuplicateAddress(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	n := mustNetwork(t, c, &netpb.CreateNetworkRequest{
		Name: "big", Ipv4Enabled: true, Ipv4Subnet: "10.10.0.0/23", Ipv6Enabled: true, Ipv6Prefix: "fd10::/64",
	})
	const count = 200
	nics := make([]*netpb.Nic, count)
	errs := make([]error, count)
	var wg sync.WaitGroup
	for i := range count {
		wg.Go(func() {
			nics[i], errs[i] = c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: n.Id, Name: fmt.Sprintf("vm-%d", i)})
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range count {
		if errs[i] != nil {
			t.Fatalf("CreateNic %d: %v", i, errs[i])
		}
		for _, k := range []string{nics[i].Ipv4Address, nics[i].Ipv6Address, nics[i].MacAddress, nics[i].SocketPath} {
			if seen[k] {
				t.Fatalf("%s handed out twice", k)
			}
			seen[k] = true
		}
	}
	got, err := c.GetNetwork(ctx(t), &netpb.GetNetworkRequest{Identifier: &netpb.GetNetworkRequest_Id{Id: n.Id}})
	if err != nil || got.NicCount != count {
		t.Fatalf("nic_count: %v %v", got, err)
	}
}

// TestRestartKeepsEverything stops the daemon with SIGTERM and then SIGKILL
// and checks that every object, address, MAC, prefix and socket comes back.
func TestRestartKeepsEverything(t *testing.T) {
	dirs := daemon.NewDirs(t)
	d := daemon.Start(t, dirs)
	c := d.Client
	n := mustNetwork(t, c, dual("prod"))
	mustNetwork(t, c, &netpb.CreateNetworkRequest{Name: "v6", Ipv6Enabled: true, Ipv6Prefix: "fd01::/64", DnsServers: []string{"fd01::53"}})
	mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "a"})
	mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "router", RoutedIpv4Prefixes: []string{"10.0.1.0/24"}, RoutedIpv6Prefixes: []string{"fd00:1::/64"}})
	mustNic(t, c, &netpb.CreateNicRequest{NetworkId: "v6", MacAddress: "52:54:00:aa:bb:cc"})
	want := snapshot(t, c)

	for _, stop := range []struct {
		name string
		do   func(*daemon.Daemon) error
	}{
		{"SIGTERM", (*daemon.Daemon).Stop},
		{"SIGKILL", func(d *daemon.Daemon) error { d.Kill(); return nil }},
	} {
		if err := stop.do(d); err != nil {
			t.Fatalf("%s: %v", stop.name, err)
		}
		d = daemon.Start(t, dirs)
		got := snapshot(t, d.Client)
		if !proto.Equal(want.nets, got.nets) || !proto.Equal(want.nics, got.nics) {
			t.Fatalf("after %s state differs:\nwant %v\n%v\ngot  %v\n%v", stop.name, want.nets, want.nics, got.nets, got.nics)
		}
		for _, nic := range got.nics.Nics {
			if !socketListens(nic.SocketPath) {
				t.Fatalf("after %s socket %s does not listen", stop.name, nic.SocketPath)
			}
		}
	}
	// The restored state is live: a new NIC takes the next free address.
	next := mustNic(t, d.Client, &netpb.CreateNicRequest{NetworkId: "prod"})
	if next.Ipv4Address != "10.0.0.3" {
		t.Fatalf("after restart next address is %s, want 10.0.0.3", next.Ipv4Address)
	}
}

// TestLockedMetadataDirRefused starts a second daemon on the same metadata
// directory: it must exit with a clear message, not serve.
func TestLockedMetadataDirRefused(t *testing.T) {
	dirs := daemon.NewDirs(t)
	daemon.Start(t, dirs)
	_, err := daemon.TryStart(t, dirs)
	if err == nil {
		t.Fatal("second daemon on a locked metadata dir started")
	}
	if !contains(err.Error(), "open metadata store") {
		t.Fatalf("unclear error: %v", err)
	}
}
