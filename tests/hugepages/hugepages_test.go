package hugepages

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// TestEmptyPoolFallsBack: with --hugepages and no pages, each new NIC's
// inbox falls back to normal pages with a warning naming the command,
// traffic flows, and a restart warns about the NICs in the store.
func TestEmptyPoolFallsBack(t *testing.T) {
	setPool(t, 0)
	d := daemon.Start(t, daemon.NewDirs(t), "--hugepages")
	net := createNetwork(t, d)
	var nics []vnic
	for range 2 {
		nic, err := d.Client.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: net})
		if err != nil {
			t.Fatal(err)
		}
		nics = append(nics, connect(t, d, nic))
	}
	exchange(t, nics[0], nics[1])
	log := d.Log()
	for _, want := range []string{"falling back to normal pages for a NIC inbox", "echo 1 > /proc/sys/vm/nr_hugepages"} {
		if !strings.Contains(log, want) {
			t.Errorf("daemon log lacks %q", want)
		}
	}

	for _, n := range nics {
		n.g.Close()
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	d = daemon.Start(t, d.Dirs(), "--hugepages")
	want := "2 huge pages of 2 MiB needed, 0 available; reserve them with: echo 2 > /proc/sys/vm/nr_hugepages"
	if log := d.Log(); !strings.Contains(log, "pool too small") || !strings.Contains(log, want) {
		t.Errorf("restart with 2 NICs and no pages: log lacks the warning %q", want)
	}
}

// TestRequiredWithoutPages: --hugepages=required does not start when the
// NICs in the store need pages the pool lacks, and refuses a new NIC
// with RESOURCE_EXHAUSTED.
func TestRequiredWithoutPages(t *testing.T) {
	setPool(t, 0)
	d := daemon.Start(t, daemon.NewDirs(t))
	net := createNetwork(t, d)
	if _, err := d.Client.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: net}); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	_, err := daemon.TryStart(t, d.Dirs(), "--hugepages=required")
	if err == nil {
		t.Fatal("started with --hugepages=required, one NIC in the store and no pages")
	}
	for _, want := range []string{"exit status 1", "huge pages required for 1 NICs", "echo 1 > /proc/sys/vm/nr_hugepages"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("failed start lacks %q:\n%v", want, err)
		}
	}

	d = daemon.Start(t, daemon.NewDirs(t), "--hugepages=required")
	net = createNetwork(t, d)
	_, err = d.Client.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: net})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "echo 1 > /proc/sys/vm/nr_hugepages") {
		t.Fatalf("CreateNic without pages: %v, want RESOURCE_EXHAUSTED with the command", err)
	}
}

// TestPagesInUse: with pages for two NICs, their inboxes take two pages
// from the pool while traffic flows, a third NIC is refused, a deleted
// NIC gives its page back at once and it serves the next one, and the
// daemon gives them all back when it stops.
func TestPagesInUse(t *testing.T) {
	before := readPool(t)
	setPool(t, before.total+2)
	idle := readPool(t)
	if idle.free-idle.rsvd < 2 {
		t.Fatalf("pool %+v after adding 2 pages: fewer than 2 available", idle)
	}
	d := daemon.Start(t, daemon.NewDirs(t), "--hugepages=required")
	net := createNetwork(t, d)
	var nics []vnic
	for range 2 {
		nic, err := d.Client.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: net})
		if err != nil {
			t.Fatal(err)
		}
		nics = append(nics, connect(t, d, nic))
	}
	if got := readPool(t); got.free != idle.free-2 {
		t.Fatalf("HugePages_Free %d with 2 NICs, want %d (%d before)", got.free, idle.free-2, idle.free)
	}
	exchange(t, nics[0], nics[1])

	_, err := d.Client.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: net})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("third CreateNic with 2 pages: %v, want RESOURCE_EXHAUSTED", err)
	}
	nics[1].g.Close()
	if _, err := d.Client.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: nics[1].id}); err != nil {
		t.Fatal(err)
	}
	if got := readPool(t).free; got != idle.free-1 {
		t.Fatalf("HugePages_Free %d after deleting a NIC, want %d", got, idle.free-1)
	}
	nic, err := d.Client.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: net})
	if err != nil {
		t.Fatalf("CreateNic after deleting a NIC: %v", err)
	}
	exchange(t, nics[0], connect(t, d, nic))
	if got := readPool(t); got.free != idle.free-2 {
		t.Fatalf("HugePages_Free %d after replacing a NIC, want %d", got.free, idle.free-2)
	}

	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := readPool(t); got.free != idle.free {
		t.Fatalf("HugePages_Free %d after the daemon stopped, want %d", got.free, idle.free)
	}
}
