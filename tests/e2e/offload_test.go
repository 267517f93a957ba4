package e2e_test

import (
	"fmt"
	"testing"

	"mvirt-net/rpc/netpb"
)

// noOffloads are the virtio-net-pci properties of a guest whose device
// offers and takes no offload at all: every checksum and every segment
// is the guest kernel's own work.
const noOffloads = ",csum=off,gso=off,guest_csum=off,guest_tso4=off,guest_tso6=off,guest_ecn=off,guest_ufo=off," +
	"host_tso4=off,host_tso6=off,host_ecn=off,host_ufo=off"

// offloadFeatures are the virtio-net offload feature bits: CSUM,
// GUEST_CSUM, GUEST_TSO4/6, GUEST_ECN, GUEST_UFO, HOST_TSO4/6, HOST_ECN,
// HOST_UFO.
var offloadFeatures = []int{0, 1, 7, 8, 9, 10, 11, 12, 13, 14}

// fileMiB is the size of the files the guests send each other.
const fileMiB = 8

// TestTCPFileTransfer has guest a send a file of random bytes to guest b
// over TCP through the router, both with QEMU's default device, which
// offers the guest every offload the daemon offers, checks that both
// negotiated checksum and TSO offload (so the file travels in
// super-frames passed through whole) and that b received it whole.
func TestTCPFileTransfer(t *testing.T) {
	t.Parallel()
	fileTransfer(t, 0)
}

// TestTCPFileTransferJumbo is TestTCPFileTransfer on a network with MTU
// 9000, which both guests learn from DHCP: segments of 8948 bytes.
func TestTCPFileTransferJumbo(t *testing.T) {
	t.Parallel()
	fileTransfer(t, 9000)
}

// fileTransfer runs TestTCPFileTransfer on a network with mtu (0 for the
// default).
func fileTransfer(t *testing.T, mtu uint32) {
	l := newLab(t)
	n := l.createNetwork(&netpb.CreateNetworkRequest{
		Name: "tcp", Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/24", Ipv6Enabled: true, Ipv6Prefix: "fd00::/64", Mtu: mtu,
	})
	nicA := l.nic(&netpb.CreateNicRequest{NetworkId: n.Id, Name: "a"})
	nicB := l.nic(&netpb.CreateNicRequest{NetworkId: n.Id, Name: "b"})
	a := l.boot("a", nicA, plan{send: fmt.Sprintf("%s:5001:%d", nicB.Ipv4Address, fileMiB)})
	b := l.boot("b", nicB, plan{recv: "5001"})
	l.ready(a, b)
	l.finish(a, b)
	expectFile(t, a, b, nicB.Ipv4Address+":5001", "5001")
	for _, g := range []*guest{a, b} {
		if mtu != 0 {
			g.expectOK(t, "mtu", map[string]string{"link": fmt.Sprint(mtu)})
		}
		g.expectOffloads(t)
		g.expectAllPassed(t)
	}
}

// TestTCPMixedOffloads sends a file each way between a guest whose device
// has every offload off and one with QEMU's defaults: what one guest
// hands over in super-frames with partial checksums reaches the other,
// which takes neither, segmented and checksummed, and the other way
// round.
func TestTCPMixedOffloads(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	n := l.network("mixed", "10.0.0.0/24", "fd00::/64")
	nicOff := l.nic(&netpb.CreateNicRequest{NetworkId: n.Id, Name: "off"})
	nicOn := l.nic(&netpb.CreateNicRequest{NetworkId: n.Id, Name: "on"})
	off := l.bootWith("off", nicOff, plan{recv: "5001", send: fmt.Sprintf("%s:5002:%d", nicOn.Ipv4Address, fileMiB)}, noOffloads)
	on := l.boot("on", nicOn, plan{recv: "5002", send: fmt.Sprintf("%s:5001:%d", nicOff.Ipv4Address, fileMiB)})
	l.ready(off, on)
	l.finish(off, on)
	expectFile(t, off, on, nicOn.Ipv4Address+":5002", "5002")
	expectFile(t, on, off, nicOff.Ipv4Address+":5001", "5001")
	f := off.features(t)
	for _, bit := range offloadFeatures {
		if bit < len(f) && f[bit] == '1' {
			t.Errorf("guest off negotiated virtio feature %d with every offload off in QEMU: %s", bit, f)
		}
	}
	on.expectOffloads(t)
	for _, g := range []*guest{off, on} {
		g.expectAllPassed(t)
	}
}

// expectFile checks that from sent a file of fileMiB MiB to dst and that
// to received on port exactly its bytes.
func expectFile(t *testing.T, from, to *guest, dst, port string) {
	t.Helper()
	sent := from.expectOK(t, "send/"+dst, nil)
	got := to.expectOK(t, "recv/"+port, nil)
	if want := fmt.Sprint(fileMiB << 20); sent.fields["bytes"] != want {
		t.Errorf("guest %s sent %s bytes, want %s", from.name, sent.fields["bytes"], want)
	}
	if got.fields["bytes"] != sent.fields["bytes"] || got.fields["md5"] != sent.fields["md5"] || got.fields["md5"] == "" {
		t.Errorf("guest %s received %s bytes md5 %s, guest %s sent %s bytes md5 %s",
			to.name, got.fields["bytes"], got.fields["md5"], from.name, sent.fields["bytes"], sent.fields["md5"])
	}
	t.Logf("%s -> %s: %s bytes in %s cs", from.name, to.name, sent.fields["bytes"], sent.fields["cs"])
}

// negotiatedOffloads are the offloads the daemon offers (--offloads,
// on by default) that Linux's virtio_net takes from QEMU's default
// device: checksum both ways and TSO for IPv4 both ways.
var negotiatedOffloads = []struct {
	bit  int
	name string
}{{0, "CSUM"}, {1, "GUEST_CSUM"}, {7, "GUEST_TSO4"}, {11, "HOST_TSO4"}}

// expectOffloads checks that the guest's driver negotiated
// negotiatedOffloads.
func (g *guest) expectOffloads(t *testing.T) {
	t.Helper()
	f := g.features(t)
	for _, o := range negotiatedOffloads {
		if o.bit >= len(f) || f[o.bit] != '1' {
			t.Errorf("guest %s did not negotiate %s: virtio features %q", g.name, o.name, f)
		}
	}
}

// features returns the virtio features the guest's driver negotiated, as
// its check link reported them: one character per bit, bit 0 first.
func (g *guest) features(t *testing.T) string {
	t.Helper()
	return g.checks()["link"].fields["features"]
}
