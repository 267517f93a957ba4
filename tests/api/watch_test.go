package api_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

// dial opens a connection of the test's own to d, apart from d.Conn, which
// Stop and Kill close before they signal.
func dial(t *testing.T, d *daemon.Daemon, opts ...grpc.DialOption) netpb.NetServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(d.Addr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return netpb.NewNetServiceClient(conn)
}

// streamCtx bounds a stream by a minute, cancelled at cleanup.
func streamCtx(t *testing.T) (context.Context, context.CancelFunc) {
	return streamCtxFor(t, time.Minute)
}

// streamCtxFor bounds a stream by limit, cancelled at cleanup.
func streamCtxFor(t *testing.T, limit time.Duration) (context.Context, context.CancelFunc) {
	c, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	return c, cancel
}

func watchNics(t *testing.T, c netpb.NetServiceClient) netpb.NetService_WatchNicsClient {
	t.Helper()
	return watchNicsFor(t, c, time.Minute)
}

// watchNicsFor begins a NIC watch bounded by limit.
func watchNicsFor(t *testing.T, c netpb.NetServiceClient, limit time.Duration) netpb.NetService_WatchNicsClient {
	t.Helper()
	sctx, _ := streamCtxFor(t, limit)
	s, err := c.WatchNics(sctx, &netpb.WatchNicsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func watchNetworks(t *testing.T, c netpb.NetServiceClient) netpb.NetService_WatchNetworksClient {
	t.Helper()
	sctx, _ := streamCtx(t)
	s, err := c.WatchNetworks(sctx, &netpb.WatchNetworksRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func nextNic(t *testing.T, s netpb.NetService_WatchNicsClient) *netpb.NicEvent {
	t.Helper()
	ev, err := s.Recv()
	if err != nil {
		t.Fatalf("WatchNics Recv: %v", err)
	}
	if ev.Timestamp < time.Now().Add(-time.Hour).Unix() || ev.Timestamp > time.Now().Unix()+1 {
		t.Fatalf("event timestamp %d is not Unix seconds of now", ev.Timestamp)
	}
	return ev
}

func nextNetwork(t *testing.T, s netpb.NetService_WatchNetworksClient) *netpb.NetworkEvent {
	t.Helper()
	ev, err := s.Recv()
	if err != nil {
		t.Fatalf("WatchNetworks Recv: %v", err)
	}
	return ev
}

// wantNicEvent checks that ev is about want (nil: its deletion, of id).
func wantNicEvent(t *testing.T, ev *netpb.NicEvent, id string, want *netpb.Nic) {
	t.Helper()
	if ev.NicId != id || (want == nil) != (ev.Nic == nil) || (want != nil && !proto.Equal(ev.Nic, want)) {
		t.Fatalf("event %v, want nic %s as %v", ev, id, want)
	}
}

// TestWatchNicsSequence: the snapshot, then create, update, ACTIVE as a
// simulated VMM connects, CREATED as it leaves, and delete, in order.
func TestWatchNicsSequence(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	n := mustNetwork(t, c, dual("watched"))
	first := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "first"})

	w := watchNics(t, c)
	wantNicEvent(t, nextNic(t, w), first.Id, first)

	second := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "second"})
	wantNicEvent(t, nextNic(t, w), second.Id, second)
	updated, err := c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: second.Id, RoutedIpv4Prefixes: []string{"10.0.9.0/24"}})
	if err != nil {
		t.Fatal(err)
	}
	wantNicEvent(t, nextNic(t, w), second.Id, updated)

	g, err := vmm.Connect(second.SocketPath, vmm.GuestConfig{QueueSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	active := proto.Clone(updated).(*netpb.Nic)
	active.State = netpb.NicState_NIC_STATE_ACTIVE
	wantNicEvent(t, nextNic(t, w), second.Id, active)
	g.Close()
	wantNicEvent(t, nextNic(t, w), second.Id, updated)

	if _, err := c.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: second.Id}); err != nil {
		t.Fatal(err)
	}
	wantNicEvent(t, nextNic(t, w), second.Id, nil)
	if _, err := c.DeleteNetwork(ctx(t), &netpb.DeleteNetworkRequest{Id: n.Id, Force: true}); err != nil {
		t.Fatal(err)
	}
	wantNicEvent(t, nextNic(t, w), first.Id, nil)
}

// TestWatchNetworksSequence: the snapshot, then create, update, and a
// forced delete (its NICs' deletions first on the NIC watch).
func TestWatchNetworksSequence(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	old := mustNetwork(t, c, dual("old"))
	w := watchNetworks(t, c)
	if ev := nextNetwork(t, w); ev.NetworkId != old.Id || !proto.Equal(ev.Network, old) {
		t.Fatalf("snapshot event %v, want %v", ev, old)
	}
	req := dual("new")
	req.Ipv4Subnet, req.Ipv6Prefix = "10.5.0.0/24", "fd05::/64"
	created := mustNetwork(t, c, req)
	if ev := nextNetwork(t, w); !proto.Equal(ev.Network, created) {
		t.Fatalf("create event %v, want %v", ev, created)
	}
	updated, err := c.UpdateNetwork(ctx(t), &netpb.UpdateNetworkRequest{Id: created.Id, DnsServers: []string{"9.9.9.9"}})
	if err != nil {
		t.Fatal(err)
	}
	if ev := nextNetwork(t, w); !proto.Equal(ev.Network, updated) {
		t.Fatalf("update event %v, want %v", ev, updated)
	}
	mustNic(t, c, &netpb.CreateNicRequest{NetworkId: created.Id})
	if _, err := c.DeleteNetwork(ctx(t), &netpb.DeleteNetworkRequest{Id: created.Id, Force: true}); err != nil {
		t.Fatal(err)
	}
	if ev := nextNetwork(t, w); ev.NetworkId != created.Id || ev.Network != nil {
		t.Fatalf("delete event %v, want the deletion of %s", ev, created.Id)
	}
}

// TestWatchEndsWithTheDaemon: OK after a graceful stop, Unavailable after
// SIGKILL; a watch with an expired deadline is refused.
func TestWatchEndsWithTheDaemon(t *testing.T) {
	dirs := daemon.NewDirs(t)
	d := daemon.Start(t, dirs)
	c := dial(t, d)
	mustNetwork(t, d.Client, dual("ends"))

	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if s, err := c.WatchNics(expired, &netpb.WatchNicsRequest{}); err == nil {
		_, err = s.Recv()
		wantCode(t, err, codes.DeadlineExceeded)
	} else {
		wantCode(t, err, codes.DeadlineExceeded)
	}

	nics, nets := watchNics(t, c), watchNetworks(t, c)
	nextNetwork(t, nets)
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := nics.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("nic watch after a graceful stop: %v, want the end of the stream (OK)", err)
	}
	if _, err := nets.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("network watch after a graceful stop: %v, want the end of the stream (OK)", err)
	}

	d = daemon.Start(t, dirs)
	c = dial(t, d)
	nics = watchNics(t, c)
	mustNic(t, d.Client, &netpb.CreateNicRequest{NetworkId: "ends"})
	nextNic(t, nics)
	d.Kill()
	_, err := nics.Recv()
	wantCode(t, err, codes.Unavailable)
}
