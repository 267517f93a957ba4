package api_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

func nicByID(id string) *netpb.GetNicRequest {
	return &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Id{Id: id}}
}

func nicByName(name, network string) *netpb.GetNicRequest {
	return &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Name{Name: name}, NetworkId: network}
}

func networkByID(id string) *netpb.GetNetworkRequest {
	return &netpb.GetNetworkRequest{Identifier: &netpb.GetNetworkRequest_Id{Id: id}}
}

// TestCallerChosenIDs gives networks and NICs their ids: taken as given
// (lower-cased), looked up case-insensitively, refused when in use or not a
// UUID, and a network's id may also be a NIC's.
func TestCallerChosenIDs(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	const netID = "0b7c6f1e-3c1a-4f5e-9d2a-6a8e4b1c2d3f"
	const nicID = "5f0e2a9c-8d41-4b6e-a1f3-2c7d9e8b4a10"

	req := dual("ids")
	req.Id = strings.ToUpper(netID)
	n := mustNetwork(t, c, req)
	if n.Id != netID {
		t.Fatalf("network id %q, want %q (lower case)", n.Id, netID)
	}
	if got, err := c.GetNetwork(ctx(t), networkByID(strings.ToUpper(netID))); err != nil || got.Name != "ids" {
		t.Fatalf("GetNetwork by upper-case id: %v %v", got, err)
	}
	nic := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: netID, Name: "vm1-nic", Id: nicID})
	if nic.Id != nicID || !strings.HasSuffix(nic.SocketPath, nicID+".sock") {
		t.Fatalf("nic id %q socket %q, want id %q", nic.Id, nic.SocketPath, nicID)
	}
	if got, err := c.GetNic(ctx(t), nicByID(strings.ToUpper(nicID))); err != nil || got.Id != nicID {
		t.Fatalf("GetNic by upper-case id: %v %v", got, err)
	}
	auto := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: netID})
	if len(auto.Id) != 36 || auto.Id == nicID {
		t.Fatalf("generated nic id %q", auto.Id)
	}
	// Separate kinds: a NIC may carry a network's id and the reverse.
	mustNic(t, c, &netpb.CreateNicRequest{NetworkId: netID, Name: "same-as-net", Id: netID})
	other := dual("ids-other")
	other.Ipv4Subnet, other.Ipv6Prefix, other.Id = "10.9.0.0/24", "fd09::/64", nicID
	mustNetwork(t, c, other)

	before := snapshot(t, c)
	for name, tc := range map[string]struct {
		call func() error
		code codes.Code
	}{
		"network id in use": {func() error {
			r := dual("ids-again")
			r.Id = netID
			_, err := c.CreateNetwork(ctx(t), r)
			return err
		}, codes.AlreadyExists},
		"network id in use, other case": {func() error {
			r := dual("ids-again")
			r.Id = strings.ToUpper(netID)
			_, err := c.CreateNetwork(ctx(t), r)
			return err
		}, codes.AlreadyExists},
		"network id not a uuid": {func() error {
			r := dual("ids-bad")
			r.Id = "prod-network"
			_, err := c.CreateNetwork(ctx(t), r)
			return err
		}, codes.InvalidArgument},
		"network id nil uuid": {func() error {
			r := dual("ids-nil")
			r.Id = "00000000-0000-0000-0000-000000000000"
			_, err := c.CreateNetwork(ctx(t), r)
			return err
		}, codes.InvalidArgument},
		"network id braces": {func() error {
			r := dual("ids-braces")
			r.Id = "{" + netID + "}"
			_, err := c.CreateNetwork(ctx(t), r)
			return err
		}, codes.InvalidArgument},
		"nic id in use": {func() error {
			_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: netID, Id: nicID})
			return err
		}, codes.AlreadyExists},
		"nic id in use in another network": {func() error {
			_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: "ids-other", Id: strings.ToUpper(nicID)})
			return err
		}, codes.AlreadyExists},
		"nic id not a uuid": {func() error {
			_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: netID, Id: "vm1"})
			return err
		}, codes.InvalidArgument},
		"nic id too long": {func() error {
			_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: netID, Id: nicID + strings.Repeat("0", 10000)})
			return err
		}, codes.InvalidArgument},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.call()
			wantCode(t, err, tc.code)
			if len(status.Convert(err).Message()) > 512 {
				t.Errorf("message of %d bytes echoes the request", len(status.Convert(err).Message()))
			}
		})
	}
	if after := snapshot(t, c); !proto.Equal(before.nets, after.nets) || !proto.Equal(before.nics, after.nics) {
		t.Fatalf("refused creates changed the state:\nbefore %v %v\nafter  %v %v", before.nets, before.nics, after.nets, after.nics)
	}
}

// TestNicNamesPerNetwork allows a name once per network, and makes a
// lookup by a shared name fail naming both ids unless narrowed.
func TestNicNamesPerNetwork(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	a := mustNetwork(t, c, dual("net-a"))
	reqB := dual("net-b")
	reqB.Ipv4Subnet, reqB.Ipv6Prefix = "10.1.0.0/24", "fd01::/64"
	b := mustNetwork(t, c, reqB)

	inA := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: a.Id, Name: "web-nic"})
	_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: a.Id, Name: "web-nic"})
	wantCode(t, err, codes.AlreadyExists)
	inB := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: b.Id, Name: "web-nic"})

	_, err = c.GetNic(ctx(t), nicByName("web-nic", ""))
	wantCode(t, err, codes.FailedPrecondition)
	for _, id := range []string{inA.Id, inB.Id} {
		if !strings.Contains(status.Convert(err).Message(), id) {
			t.Errorf("ambiguity message does not name %s: %v", id, err)
		}
	}
	for _, tc := range []struct{ network, want string }{{"net-a", inA.Id}, {b.Id, inB.Id}} {
		got, err := c.GetNic(ctx(t), nicByName("web-nic", tc.network))
		if err != nil || got.Id != tc.want {
			t.Fatalf("GetNic web-nic in %s: %v %v, want %s", tc.network, got, err, tc.want)
		}
	}
	_, err = c.GetNic(ctx(t), nicByName("web-nic", "no-such-net"))
	wantCode(t, err, codes.NotFound)
	_, err = c.GetNic(ctx(t), &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Id{Id: inA.Id}, NetworkId: "net-b"})
	wantCode(t, err, codes.NotFound)
	for name, call := range map[string]func() error{
		"update": func() error {
			_, err := c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: "web-nic"})
			return err
		},
		"delete": func() error {
			_, err := c.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: "web-nic"})
			return err
		},
		"attach": func() error {
			_, err := c.AttachNic(ctx(t), &netpb.AttachNicRequest{Id: "web-nic"})
			return err
		},
	} {
		t.Run("ambiguous "+name, func(t *testing.T) { wantCode(t, call(), codes.FailedPrecondition) })
	}

	// Once one is gone the name is unique again, and usable by name.
	if _, err := c.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: inA.Id}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetNic(ctx(t), nicByName("web-nic", "")); err != nil || got.Id != inB.Id {
		t.Fatalf("GetNic web-nic after delete: %v %v", got, err)
	}
	again := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: a.Id, Name: "web-nic"})
	if _, err := c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: again.Id, RoutedIpv4Prefixes: []string{"10.0.5.0/24"}}); err != nil {
		t.Fatal(err)
	}

	// Names per network survive a restart.
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	d = daemon.Start(t, d.Dirs())
	_, err = d.Client.GetNic(ctx(t), nicByName("web-nic", ""))
	wantCode(t, err, codes.FailedPrecondition)
	_, err = d.Client.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: b.Id, Name: "web-nic"})
	wantCode(t, err, codes.AlreadyExists)
}

// TestAttachNic answers NotFound for an unknown NIC and otherwise names the
// socket and whether a VMM is connected.
func TestAttachNic(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	n := mustNetwork(t, c, dual("attach"))
	nic := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "vm-nic"})

	_, err := c.AttachNic(ctx(t), &netpb.AttachNicRequest{Id: "7d3c0e55-1f0a-4d8e-9d6b-0e6f4c1b2a39"})
	wantCode(t, err, codes.NotFound)
	_, err = c.AttachNic(ctx(t), &netpb.AttachNicRequest{})
	wantCode(t, err, codes.InvalidArgument)

	res, err := c.AttachNic(ctx(t), &netpb.AttachNicRequest{Id: nic.Id})
	if err != nil || !res.Attached || !strings.Contains(res.Message, nic.SocketPath) || !strings.Contains(res.Message, "no VMM is connected") {
		t.Fatalf("AttachNic before a VMM: %v %v", res, err)
	}
	g, err := vmm.Connect(nic.SocketPath, vmm.GuestConfig{QueueSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	waitNicState(t, c, nic.Id, netpb.NicState_NIC_STATE_ACTIVE)
	res, err = c.AttachNic(ctx(t), &netpb.AttachNicRequest{Id: "vm-nic"})
	if err != nil || !res.Attached || !strings.Contains(res.Message, "a VMM is connected now") {
		t.Fatalf("AttachNic by name with a VMM: %v %v", res, err)
	}
}

// waitNicState waits until GetNic reports the NIC in state want.
func waitNicState(t *testing.T, c netpb.NetServiceClient, id string, want netpb.NicState) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := c.GetNic(ctx(t), nicByID(id))
		if err != nil {
			t.Fatal(err)
		}
		if got.State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nic %s state %v, want %v", id, got.State, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConcurrentCreatesOfOneID races creates of one NIC id in two networks
// and of one network id: exactly one of each succeeds.
func TestConcurrentCreatesOfOneID(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	a := mustNetwork(t, c, dual("race-a"))
	reqB := dual("race-b")
	reqB.Ipv4Subnet, reqB.Ipv6Prefix = "10.1.0.0/24", "fd01::/64"
	b := mustNetwork(t, c, reqB)
	const nicID = "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	const netID = "1d2c3b4a-5f6e-4d7c-9b8a-7f6e5d4c3b2a"
	const racers = 16
	nicErrs := make([]error, racers)
	netErrs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			network := a.Id
			if i%2 == 1 {
				network = b.Id
			}
			_, nicErrs[i] = c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: network, Id: nicID})
		})
		wg.Go(func() {
			r := dual(fmt.Sprintf("race-net-%d", i))
			r.Id = netID
			_, netErrs[i] = c.CreateNetwork(ctx(t), r)
		})
	}
	wg.Wait()
	for what, errs := range map[string][]error{"nic": nicErrs, "network": netErrs} {
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				wantCode(t, err, codes.AlreadyExists)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d creates of one %s id succeeded, want 1", ok, racers, what)
		}
	}
	list, err := c.ListNics(ctx(t), &netpb.ListNicsRequest{})
	if err != nil || len(list.Nics) != 1 || list.Nics[0].Id != nicID {
		t.Fatalf("nics after the race: %v %v", list, err)
	}
	// The losers never took the winner's socket path.
	if !socketListens(list.Nics[0].SocketPath) {
		t.Fatalf("the created nic's socket %s does not listen", list.Nics[0].SocketPath)
	}
}
