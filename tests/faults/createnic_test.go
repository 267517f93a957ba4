package faults_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// waitNic waits until the daemon lists the NIC in state and its socket
// listens or not as listening says, and fails the test if that does not
// happen within 20 s.
func waitNic(t *testing.T, c netpb.NetServiceClient, id string, state netpb.NicState, listening bool) {
	t.Helper()
	var last *netpb.Nic
	for range 200 {
		n, err := c.GetNic(ctx(t), &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Id{Id: id}})
		if err != nil {
			t.Fatalf("GetNic %s: %v", id, err)
		}
		if last = n; n.State == state && socketListens(n.SocketPath) == listening {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nic %s is %v, socket listening %v; want %v, listening %v", id, last.State, socketListens(last.SocketPath), state, listening)
}

// TestCreateNicUnbindableSocket makes the socket directory read only, so
// that a new NIC's socket cannot be bound: CreateNic is FailedPrecondition
// and leaves no record, socket file or descriptor behind, also after a
// restart. A stored NIC whose socket cannot be served at start is listed
// in error and is served again once the directory is writable.
func TestCreateNicUnbindableSocket(t *testing.T) {
	base := shortDir(t)
	dirs := daemon.Dirs{SocketDir: filepath.Join(base, "s"), MetadataDir: filepath.Join(base, "data")}
	mountTmpfs(t, dirs.SocketDir, "size=1m")
	d := daemon.Start(t, dirs)
	c := d.Client
	if _, err := c.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{Name: "prod", Ipv4Enabled: true, Ipv4Subnet: "10.40.0.0/24"}); err != nil {
		t.Fatal(err)
	}
	kept, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: "prod", Name: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, c)
	fds, err := d.OpenFds()
	if err != nil {
		t.Fatal(err)
	}

	remount(t, dirs.SocketDir, "ro")
	for i := range 5 {
		_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: "prod", Name: fmt.Sprintf("vm-%d", i%2)})
		wantCode(t, "CreateNic on a read-only socket dir", err, codes.FailedPrecondition, "socket")
	}
	sameState(t, "after refused creates", c, want)
	waitFds(t, d, fds)
	if got := socketFiles(t, dirs.SocketDir); fmt.Sprint(got) != fmt.Sprint([]string{kept.SocketPath}) {
		t.Fatalf("socket dir holds %v, want only %s", got, kept.SocketPath)
	}

	// Restart with the directory still read only: the stored NIC cannot
	// replace its socket file and is listed in error; nothing else is.
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	d = daemon.Start(t, dirs)
	c = d.Client
	got := snapshot(t, c)
	if len(got.nics.Nics) != 1 || got.nics.Nics[0].Id != kept.Id {
		t.Fatalf("after restart the daemon lists %v, want only %s", got.nics, kept.Id)
	}
	waitNic(t, c, kept.Id, netpb.NicState_NIC_STATE_ERROR, false)

	remount(t, dirs.SocketDir, "rw")
	waitNic(t, c, kept.Id, netpb.NicState_NIC_STATE_CREATED, true)
	vm, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: "prod", Name: "vm-0"})
	if err != nil {
		t.Fatalf("CreateNic with the name a refused create had asked for: %v", err)
	}
	if !socketListens(vm.SocketPath) {
		t.Fatal("the new NIC's socket does not listen")
	}
}

// TestCreateNicReactorFails runs the daemon with its reactors pinned to a
// CPU the machine does not have, so that every reactor fails to start
// after the NIC's socket listens: CreateNic is Internal and leaves no
// record, socket file or descriptor behind, also after a restart.
func TestCreateNicReactorFails(t *testing.T) {
	const cpu = 1000
	if runtime.NumCPU() > cpu {
		t.Fatalf("this machine has CPU %d", cpu)
	}
	dirs := daemon.NewDirs(t)
	d := daemon.Start(t, dirs, "--reactor-cpus", fmt.Sprint(cpu))
	c := d.Client
	if _, err := c.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{Name: "prod", Ipv4Enabled: true, Ipv4Subnet: "10.41.0.0/24"}); err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, c)
	fds, err := d.OpenFds()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: "prod", Name: "vm", Ipv4Address: fmt.Sprintf("10.41.0.%d", 10+i%2)})
		wantCode(t, "CreateNic whose reactor cannot start", err, codes.Internal, "start reactor")
	}
	sameState(t, "after failed creates", c, want)
	waitFds(t, d, fds)
	if got := socketFiles(t, dirs.SocketDir); len(got) != 0 {
		t.Fatalf("socket dir holds %v after failed creates", got)
	}

	d.Kill()
	d = daemon.Start(t, dirs)
	sameState(t, "after restart", d.Client, want)
	vm, err := d.Client.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: "prod", Name: "vm", Ipv4Address: "10.41.0.10"})
	if err != nil {
		t.Fatalf("CreateNic with the name and address failed creates had asked for: %v", err)
	}
	if !socketListens(vm.SocketPath) {
		t.Fatal("the new NIC's socket does not listen")
	}
}
