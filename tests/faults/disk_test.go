package faults_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/grpc/codes"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// servers returns n distinct documentation IPv6 addresses of full length,
// so that a network record is a few kilobytes and the disk fills quickly.
func servers(kind, round, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("2001:db8:%x:%x:ffff:ffff:ffff:%x", kind, round, i+1)
	}
	return out
}

// prefixes returns 512 routed /32s outside the network's subnet, a
// different set for odd and even n.
func prefixes(n int) []string {
	out := make([]string, 512)
	for i := range out {
		out[i] = fmt.Sprintf("10.%d.%d.%d/32", 100+n%2, i/256, i%256)
	}
	return out
}

// diskModel is what the daemon acknowledged: per network name, the DNS
// servers it last accepted.
type diskModel map[string][]string

func (m diskModel) check(t *testing.T, when string, c netpb.NetServiceClient) {
	t.Helper()
	res, err := c.ListNetworks(ctx(t), &netpb.ListNetworksRequest{})
	if err != nil {
		t.Fatalf("%s: ListNetworks: %v", when, err)
	}
	if len(res.Networks) != len(m) {
		t.Fatalf("%s: %d networks listed, %d acknowledged", when, len(res.Networks), len(m))
	}
	for _, n := range res.Networks {
		want, ok := m[n.Name]
		if !ok {
			t.Fatalf("%s: network %q was never acknowledged", when, n.Name)
		}
		if fmt.Sprint(n.DnsServers) != fmt.Sprint(want) {
			t.Fatalf("%s: network %q has DNS %v, acknowledged %v", when, n.Name, n.DnsServers, want)
		}
	}
}

// fillDisk writes the rest of the file system holding dir with a file
// until it has no free block left.
func fillDisk(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, chunk := range []int{1 << 16, 1 << 12, 1 << 9} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Bavail != 0 {
		t.Fatalf("%d blocks still free after filling %s", st.Bavail, dir)
	}
}

// TestFullMetadataDisk fills a small metadata disk through the API until
// the daemon refuses, checks that every mutating RPC is then
// ResourceExhausted and changes nothing while reads work, fills the disk
// to the last block, restarts the daemon on it, grows the disk and checks
// that writes work again and nothing acknowledged was lost.
func TestFullMetadataDisk(t *testing.T) {
	base := shortDir(t)
	dirs := daemon.Dirs{SocketDir: filepath.Join(base, "s"), MetadataDir: filepath.Join(base, "data")}
	mountTmpfs(t, dirs.MetadataDir, "size=8m")
	// Half the disk is taken by something else, so that the daemon fills
	// the rest in fewer writes.
	if err := os.WriteFile(filepath.Join(dirs.MetadataDir, "other"), make([]byte, 4<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	d := daemon.Start(t, dirs)
	c := d.Client

	model := diskModel{}
	net, err := c.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{
		Name: "prod", Ipv4Enabled: true, Ipv4Subnet: "10.20.0.0/24", Ipv6Enabled: true, Ipv6Prefix: "fd20::/64",
	})
	if err != nil {
		t.Fatal(err)
	}
	model["prod"] = nil
	nic, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: net.Id, Name: "vm"})
	if err != nil {
		t.Fatal(err)
	}

	// Fill: every 10th write a new network, the others replace the routed
	// prefixes of the NIC (each write is a new version of its record, of
	// about 9 KiB).
	const maxWrites = 5000
	var full error
	var routes []string
	for i := 0; i <= maxWrites && full == nil; i++ {
		if i%10 == 0 {
			name := fmt.Sprintf("fill-%05d", i)
			_, err := c.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{
				Name: name, Ipv6Enabled: true, Ipv6Prefix: fmt.Sprintf("fd21:%x::/64", i), DnsServers: servers(1, i, 4),
			})
			if err == nil {
				model[name] = servers(1, i, 4)
			}
			full = err
			continue
		}
		r := prefixes(i)
		_, err := c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: nic.Id, RoutedIpv4Prefixes: r})
		if err == nil {
			routes = r
		}
		full = err
	}
	if full == nil {
		t.Fatalf("%d writes fit on an 8 MiB disk", maxWrites)
	}
	wantCode(t, "write on a full disk", full, codes.ResourceExhausted, "out of space")
	t.Logf("disk full after %d networks: %v", len(model), full)
	// Smaller writes may still fit: go on with them until one is refused.
	for i := 0; ; i++ {
		if i == 1000 {
			t.Fatal("1000 small writes fit after a large one was refused")
		}
		name := fmt.Sprintf("small-%04d", i)
		_, err := c.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{Name: name, Ipv6Enabled: true, Ipv6Prefix: fmt.Sprintf("fd22:%x::/64", i)})
		if err != nil {
			wantCode(t, "small write on a full disk", err, codes.ResourceExhausted, "out of space")
			break
		}
		model[name] = nil
	}
	model.check(t, "full disk", c)
	before := snapshot(t, c)
	if got := before.nics.Nics[0].RoutedIpv4Prefixes; fmt.Sprint(got) != fmt.Sprint(routes) {
		t.Fatalf("the NIC routes %d prefixes, the last acknowledged update %d", len(got), len(routes))
	}

	refusedWrites := func(when string) {
		t.Helper()
		_, err := c.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{Name: "late", Ipv4Enabled: true, Ipv4Subnet: "10.30.0.0/24"})
		wantCode(t, when+": CreateNetwork", err, codes.ResourceExhausted, "out of space")
		_, err = c.UpdateNetwork(ctx(t), &netpb.UpdateNetworkRequest{Id: "prod", DnsServers: servers(4, 0, 2)})
		wantCode(t, when+": UpdateNetwork", err, codes.ResourceExhausted, "out of space")
		_, err = c.DeleteNetwork(ctx(t), &netpb.DeleteNetworkRequest{Id: "fill-00000"})
		wantCode(t, when+": DeleteNetwork", err, codes.ResourceExhausted, "out of space")
		_, err = c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: "prod", Name: "late"})
		wantCode(t, when+": CreateNic", err, codes.ResourceExhausted, "out of space")
		_, err = c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: nic.Id, RoutedIpv4Prefixes: []string{"10.20.1.0/24"}})
		wantCode(t, when+": UpdateNic", err, codes.ResourceExhausted, "out of space")
		_, err = c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: nic.Id, RoutedIpv4Prefixes: prefixes(1)})
		wantCode(t, when+": UpdateNic", err, codes.ResourceExhausted, "out of space")
		_, err = c.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: nic.Id})
		wantCode(t, when+": DeleteNic", err, codes.ResourceExhausted, "out of space")
		sameState(t, when+": after refused writes", c, before)
		if got := socketFiles(t, dirs.SocketDir); fmt.Sprint(got) != fmt.Sprint(nicSockets(before)) {
			t.Fatalf("%s: socket dir holds %v, want the NICs' %v", when, got, nicSockets(before))
		}
		if !socketListens(nic.SocketPath) {
			t.Fatalf("%s: the NIC's socket does not listen", when)
		}
	}
	refusedWrites("full disk")

	fillDisk(t, dirs.MetadataDir)
	refusedWrites("disk without a free block")

	if err := d.Stop(); err != nil {
		t.Fatalf("SIGTERM on a full disk: %v\n%s", err, d.Log())
	}
	d = daemon.Start(t, dirs)
	c = d.Client
	sameState(t, "restart on a full disk", c, before)
	if !strings.Contains(d.Log(), "read-only copy") {
		t.Fatal("the daemon did not say it serves the store read only")
	}
	refusedWrites("restart on a full disk")
	d.Kill()
	d = daemon.Start(t, dirs)
	c = d.Client
	sameState(t, "restart after SIGKILL on a full disk", c, before)

	remount(t, dirs.MetadataDir, "size=64m")
	dns := servers(5, 0, 4)
	if _, err := c.UpdateNetwork(ctx(t), &netpb.UpdateNetworkRequest{Id: "prod", DnsServers: dns}); err != nil {
		t.Fatalf("UpdateNetwork once the disk grew: %v", err)
	}
	model["prod"] = dns
	if _, err := c.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{Name: "late", Ipv4Enabled: true, Ipv4Subnet: "10.30.0.0/24"}); err != nil {
		t.Fatalf("CreateNetwork once the disk grew: %v", err)
	}
	model["late"] = nil
	late, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: "late", Name: "late"})
	if err != nil {
		t.Fatalf("CreateNic once the disk grew: %v", err)
	}
	if _, err := c.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: nic.Id}); err != nil {
		t.Fatalf("DeleteNic once the disk grew: %v", err)
	}
	model.check(t, "disk grown", c)
	after := snapshot(t, c)
	if len(after.nics.Nics) != 1 || after.nics.Nics[0].Id != late.Id {
		t.Fatalf("NICs once the disk grew: %v", after.nics)
	}

	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	d = daemon.Start(t, dirs)
	sameState(t, "restart on the grown disk", d.Client, after)
	model.check(t, "restart on the grown disk", d.Client)
	if !socketListens(late.SocketPath) {
		t.Fatal("the NIC created once the disk grew does not listen after the restart")
	}
}
