package api_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// TestReconcilerByID plays the control plane's reconciler: "get by id; on
// NotFound, create with that id", across SIGTERM and SIGKILL restarts.
func TestReconcilerByID(t *testing.T) {
	dirs := daemon.NewDirs(t)
	d := daemon.Start(t, dirs)
	const netID = "3f1d2c4b-5a69-4788-9a0b-1c2d3e4f5a6b"
	const nicID = "a1b2c3d4-e5f6-4789-8abc-def012345678"

	ensure := func(c netpb.NetServiceClient) (*netpb.Network, *netpb.Nic) {
		t.Helper()
		n, err := c.GetNetwork(ctx(t), networkByID(netID))
		if code(err) == codes.NotFound {
			req := dual("reconciled")
			req.Id = netID
			n, err = c.CreateNetwork(ctx(t), req)
		}
		if err != nil {
			t.Fatalf("reconcile network: %v", err)
		}
		nic, err := c.GetNic(ctx(t), nicByID(nicID))
		if code(err) == codes.NotFound {
			nic, err = c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: netID, Id: nicID, Name: "vm1-nic"})
		}
		if err != nil {
			t.Fatalf("reconcile nic: %v", err)
		}
		return n, nic
	}
	wantNet, wantNic := ensure(d.Client)
	if wantNet.Id != netID || wantNic.Id != nicID {
		t.Fatalf("created under ids %s / %s, want %s / %s", wantNet.Id, wantNic.Id, netID, nicID)
	}
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
		n, nic := ensure(d.Client)
		wantNet.NicCount = n.NicCount
		if !proto.Equal(n, wantNet) || !proto.Equal(nic, wantNic) {
			t.Fatalf("after %s: got %v %v\nwant %v %v", stop.name, n, nic, wantNet, wantNic)
		}
		req := dual("reconciled-again")
		req.Id = netID
		_, err := d.Client.CreateNetwork(ctx(t), req)
		wantCode(t, err, codes.AlreadyExists)
		_, err = d.Client.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: netID, Id: nicID, Name: "other"})
		wantCode(t, err, codes.AlreadyExists)
	}
	list, err := d.Client.ListNics(ctx(t), &netpb.ListNicsRequest{})
	if err != nil || len(list.Nics) != 1 {
		t.Fatalf("after reconciling: %v %v, want exactly one nic", list, err)
	}
}

func code(err error) codes.Code { return status.Code(err) }
