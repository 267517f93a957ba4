package dataplane_test

import (
	"testing"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

// TestUnderTheUnitsPrivileges runs the daemon as systemd would run
// mvirt-net.service: as an unprivileged user (nobody stands in for the
// unit's mvirt-net) with exactly the unit's capabilities and no new
// privileges, and drives the API and the data plane through it.
func TestUnderTheUnitsPrivileges(t *testing.T) {
	dirs := daemon.NewDirs(t)
	runUnderUnit(t, dirs, daemon.UnitPrivileges(t, dirs))
}

// runUnderUnit starts the daemon under wrap and runs the API and the data
// plane through it, across a restart.
func runUnderUnit(t *testing.T, dirs daemon.Dirs, unit daemon.Unit) {
	d := daemon.StartWith(t, dirs, daemon.Options{Wrap: unit.Wrap})
	t.Helper()
	unit.Check(t, d.Pid())

	n, err := d.Client.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{
		Name: "net", Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/24", Ipv6Enabled: true, Ipv6Prefix: "fd00::/64",
		DnsServers: []string{"192.0.2.53"}, NtpServers: []string{"192.0.2.123"},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "a"})
	b := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "b"})
	dhcp4Bind(t, d, a.g, a.nicUnderTest)
	pingGateway(t, b.g, b.nicUnderTest, 1)
	if err := a.g.Send(echo4(a, b.ip, 64, 2)); err != nil {
		t.Fatal(err)
	}
	expectRouted(t, b, a.ip, 63)

	// The store and sockets written under these privileges are read back
	// under them.
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	d = daemon.StartWith(t, dirs, daemon.Options{Wrap: unit.Wrap})
	list, err := d.Client.ListNics(ctx(t), &netpb.ListNicsRequest{})
	if err != nil || len(list.Nics) != 2 {
		t.Fatalf("after a restart: %v %v", list, err)
	}
	g := connect(t, a.nicUnderTest, vmm.GuestConfig{})
	waitState(t, d, a.Id, netpb.NicState_NIC_STATE_ACTIVE)
	pingGateway(t, g, a.nicUnderTest, 3)
}
