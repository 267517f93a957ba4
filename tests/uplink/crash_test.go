package uplink_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

// The outside of the crash test: a veth from the daemon's namespace to
// one of the test's own, documentation addresses only.
const (
	crashHostVeth = "198.51.100.1"
	crashOutside  = "198.51.100.2"
	crashPort     = 9001
)

var gatewayMAC = packet.MAC{0x02, 0, 0, 0, 0, 1}

// TestUplinkReactorCrash makes the uplink's reactor panic (the
// fault-injection hook) while a guest on a public network sends UDP to a
// socket in an outside namespace: the UplinkActor restarts the reactor on
// the same device, the kernel's routes stay, the datagrams flow again
// both ways, the restart is counted in /debug/actors, and the log says
// what happened.
func TestUplinkReactorCrash(t *testing.T) {
	needRoot(t)
	dirs := daemon.NewDirs(t)
	dirs.Netns = daemon.Netns(t)
	outside := daemon.Netns(t)
	ip(t, dirs.Netns, "link", "add", "up0", "type", "veth", "peer", "name", "up0p", "netns", outside)
	ip(t, dirs.Netns, "addr", "add", crashHostVeth+"/24", "dev", "up0")
	ip(t, outside, "addr", "add", crashOutside+"/24", "dev", "up0p")
	ip(t, dirs.Netns, "link", "set", "up0", "up")
	ip(t, outside, "link", "set", "up0p", "up")
	ip(t, outside, "route", "add", "203.0.113.0/25", "via", crashHostVeth)
	d := daemon.Start(t, dirs, "--fault-injection", "--uplink-forwarding")
	create(t, d.Client, &netpb.CreateNetworkRequest{Name: "pub", Ipv4Enabled: true, Ipv4Subnet: "203.0.113.0/25", IsPublic: true})
	nic, err := d.Client.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: "pub", Name: "vm"})
	if err != nil {
		t.Fatal(err)
	}
	wantRoutes(t, dirs.Netns, "203.0.113.0/25")
	hw, _ := net.ParseMAC(nic.MacAddress)
	mac, addr := packet.MAC(hw), netip.MustParseAddr(nic.Ipv4Address)
	g, err := vmm.Connect(nic.SocketPath, vmm.GuestConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	sink := udpIn(t, outside, &net.UDPAddr{IP: net.ParseIP(crashOutside), Port: crashPort}, nil)

	// The guest sends datagram i with i in its payload, every 2 ms; the
	// sink remembers the highest it received.
	var stop atomic.Bool
	var sent, highest atomic.Uint64
	sendErr := make(chan error, 1)
	sending := make(chan struct{})
	// Registered after g.Close, so it runs before it, also on failure.
	t.Cleanup(func() {
		stop.Store(true)
		<-sending
	})
	go func() {
		defer close(sending)
		for i := uint64(1); !stop.Load(); i++ {
			payload := binary.BigEndian.AppendUint64(nil, i)
			f := packettest.UDP(mac, gatewayMAC, addr, netip.MustParseAddr(crashOutside), 4000, crashPort, payload)
			if err := g.Send(f); err != nil {
				sendErr <- err
				return
			}
			sent.Store(i)
			time.Sleep(2 * time.Millisecond)
		}
		sendErr <- nil
	}()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := sink.Read(buf)
			if err != nil {
				return
			}
			if n == 8 {
				highest.Store(max(highest.Load(), binary.BigEndian.Uint64(buf)))
			}
		}
	}()
	waitFor(t, "datagrams from the guest reach the outside", func() bool { return highest.Load() >= 20 })

	if out := d.DebugPost("/debug/uplink/panic"); out != "" {
		t.Fatalf("inject uplink panic: %s", out)
	}
	waitFor(t, "the uplink reactor's restart in /debug/actors", func() bool {
		u := uplinkNode(t, d)
		return u.ReactorRestarts == 1 && u.Uplink.Up
	})
	after := sent.Load()
	waitFor(t, "datagrams sent after the restart reach the outside", func() bool { return highest.Load() > after+20 })
	stop.Store(true)
	if err := <-sendErr; err != nil {
		t.Fatalf("guest send: %v", err)
	}

	wantRoutes(t, dirs.Netns, "203.0.113.0/25")
	n, err := d.Client.GetNetwork(ctx(t), &netpb.GetNetworkRequest{Identifier: &netpb.GetNetworkRequest_Name{Name: "pub"}})
	if err != nil {
		t.Fatal(err)
	}
	if u := n.GetUplink(); !u.GetUp() || u.GetDevice() != "mvirt0" {
		t.Fatalf("uplink after its reactor's restart = %v, want up on mvirt0", u)
	}
	if u := uplinkNode(t, d); u.Restarts != 0 {
		t.Fatalf("the UplinkActor itself restarted %d times; only its reactor should have", u.Restarts)
	}

	// And inward: the outside reaches the guest through the new reactor.
	src := udpIn(t, outside, nil, &net.UDPAddr{IP: addr.AsSlice(), Port: 5000})
	waitFor(t, "a datagram from the outside reaches the guest", func() bool {
		if _, err := src.Write([]byte("from outside")); err != nil {
			t.Fatal(err)
		}
		for {
			f, err := g.Recv(100 * time.Millisecond)
			if errors.Is(err, vmm.ErrTimeout) {
				return false
			}
			if err != nil {
				t.Fatal(err)
			}
			var p packet.Parsed
			packet.Parse(f, &p)
			if p.IPProto == packet.ProtoUDP && p.DstPort == 5000 && p.Src == netip.MustParseAddr(crashOutside) {
				return true
			}
		}
	})

	log := d.Log()
	for _, want := range []string{"fault injection: making the uplink reactor panic", "uplink reactor crashed; restarting it", "injected uplink reactor panic"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not say %q", want)
		}
	}
}

// uplinkInfo is what the test reads of the UplinkActor in /debug/actors.
type uplinkInfo struct {
	Kind            string `json:"kind"`
	Restarts        int64  `json:"restarts"`
	ReactorRestarts int64  `json:"reactor_restarts"`
	Uplink          struct {
		Up bool `json:"up"`
	} `json:"uplink"`
	Children []*uplinkInfo `json:"children"`
}

// uplinkNode finds the UplinkActor in the daemon's actor tree.
func uplinkNode(t *testing.T, d *daemon.Daemon) *uplinkInfo {
	t.Helper()
	var root uplinkInfo
	if err := json.Unmarshal([]byte(d.DebugGet("/debug/actors")), &root); err != nil {
		t.Fatalf("/debug/actors: %v", err)
	}
	queue := []*uplinkInfo{&root}
	for len(queue) > 0 {
		n := queue[0]
		queue = append(queue[1:], n.Children...)
		if n.Kind == "UplinkActor" {
			return n
		}
	}
	t.Fatal("no UplinkActor in /debug/actors")
	return nil
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
	}
}

// udpIn opens a UDP socket in namespace ns, bound to laddr or connected
// to raddr, closed at cleanup. The socket stays in ns whatever thread
// uses it.
func udpIn(t *testing.T, ns string, laddr, raddr *net.UDPAddr) *net.UDPConn {
	t.Helper()
	type res struct {
		c   *net.UDPConn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		// The thread enters ns and is never given back: it ends with
		// this goroutine, still locked.
		runtime.LockOSThread()
		h, err := netns.GetFromName(ns)
		if err != nil {
			ch <- res{err: err}
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			ch <- res{err: err}
			return
		}
		var c *net.UDPConn
		if raddr != nil {
			c, err = net.DialUDP("udp4", laddr, raddr)
		} else {
			c, err = net.ListenUDP("udp4", laddr)
		}
		ch <- res{c, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("udp socket in %s: %v", ns, r.err)
	}
	t.Cleanup(func() { _ = r.c.Close() })
	return r.c
}
