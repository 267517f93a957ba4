package e2e_test

import (
	"context"
	"testing"
	"time"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// Timeouts on the test's side. TCG guests on two busy cores boot in
// seconds to tens of seconds; the guest gives each lease and each ping
// guestWait seconds of its own.
const (
	readyTimeout = 2 * time.Minute
	doneTimeout  = 3 * time.Minute
	exitTimeout  = 30 * time.Second
	rpcTimeout   = 20 * time.Second
)

// lab is one test's daemon, started with fault injection on, and the
// guests the test boots. When the test fails, it prints every guest's
// console and the daemon's actor tree (the daemon package prints the
// daemon's log).
type lab struct {
	t      *testing.T
	d      *daemon.Daemon
	guests []*guest
}

// guest is a test VM booted on one NIC.
type guest struct {
	*vm
	name string
	nic  *netpb.Nic
}

// newLab starts a daemon for the test on fresh folders.
func newLab(t *testing.T) *lab {
	t.Helper()
	return newLabOn(t, daemon.NewDirs(t), "--fault-injection")
}

// newLabOn starts the test's daemon on dirs with args.
func newLabOn(t *testing.T, dirs daemon.Dirs, args ...string) *lab {
	t.Helper()
	l := &lab{t: t, d: daemon.Start(t, dirs, args...)}
	t.Cleanup(l.report)
	return l
}

// report prints what a failed test needs for a diagnosis.
func (l *lab) report() {
	if !l.t.Failed() {
		return
	}
	for _, g := range l.guests {
		l.t.Logf("console of guest %s (nic %s, %s, %s):\n%s", g.name, g.nic.Id, g.nic.Ipv4Address, g.nic.Ipv6Address, g.console)
	}
	l.t.Logf("actor tree and counters:\n%s", l.d.DebugGet("/debug/actors"))
}

// ctx is a context for one RPC.
func (l *lab) ctx() context.Context {
	c, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	l.t.Cleanup(cancel)
	return c
}

// network creates a network through the API; an empty subnet or prefix
// leaves that family disabled.
func (l *lab) network(name, subnet4, prefix6 string) *netpb.Network {
	l.t.Helper()
	return l.createNetwork(&netpb.CreateNetworkRequest{
		Name: name, Ipv4Enabled: subnet4 != "", Ipv4Subnet: subnet4, Ipv6Enabled: prefix6 != "", Ipv6Prefix: prefix6,
	})
}

// createNetwork creates a network through the API.
func (l *lab) createNetwork(req *netpb.CreateNetworkRequest) *netpb.Network {
	l.t.Helper()
	name := req.GetName()
	n, err := l.d.Client.CreateNetwork(l.ctx(), req)
	if err != nil {
		l.t.Fatalf("create network %s: %v", name, err)
	}
	return n
}

// nic creates a NIC through the API.
func (l *lab) nic(req *netpb.CreateNicRequest) *netpb.Nic {
	l.t.Helper()
	n, err := l.d.Client.CreateNic(l.ctx(), req)
	if err != nil {
		l.t.Fatalf("create nic %s: %v", req.Name, err)
	}
	return n
}

// getNic reads a NIC back through the API.
func (l *lab) getNic(id string) *netpb.Nic {
	l.t.Helper()
	n, err := l.d.Client.GetNic(l.ctx(), &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Id{Id: id}})
	if err != nil {
		l.t.Fatalf("get nic %s: %v", id, err)
	}
	return n
}

// boot starts a guest named name on nic, running p. It returns at once:
// guests of one test boot in parallel.
func (l *lab) boot(name string, nic *netpb.Nic, p plan) *guest {
	l.t.Helper()
	return l.bootWith(name, nic, p, "")
}

// bootWith is boot with extra virtio-net-pci properties (see qemuArgs).
func (l *lab) bootWith(name string, nic *netpb.Nic, p plan, device string) *guest {
	l.t.Helper()
	v, err := startVM(nic.SocketPath, nic.MacAddress, p.cmdline(name), device)
	if err != nil {
		l.t.Fatalf("guest %s: %v", name, err)
	}
	l.t.Cleanup(v.kill)
	g := &guest{vm: v, name: name, nic: nic}
	l.guests = append(l.guests, g)
	return g
}

// ready waits until every guest has set up its addresses, checks that
// each NIC is active (the guest's driver runs its rings), and tells the
// guests to start their peer checks.
func (l *lab) ready(gs ...*guest) {
	l.t.Helper()
	readyOrDone := func(s string) bool { return is(markReady, nil)(s) || is(markDone, nil)(s) }
	for _, g := range gs {
		_, line, err := g.console.waitFor(0, readyTimeout, markReady, readyOrDone)
		if err != nil {
			l.t.Fatalf("guest %s: %v", g.name, err)
		}
		if !is(markReady, nil)(line) {
			l.t.Fatalf("guest %s gave up before it was ready: %s", g.name, line)
		}
	}
	for _, g := range gs {
		if s := l.getNic(g.nic.Id).State; s != netpb.NicState_NIC_STATE_ACTIVE {
			l.t.Errorf("guest %s is up but GetNic says %v, want NIC_STATE_ACTIVE", g.name, s)
		}
	}
	for _, g := range gs {
		l.tell(g, "go")
	}
}

// finish waits until every guest has run its checks, then tells them to
// power off and checks that QEMU exits cleanly.
func (l *lab) finish(gs ...*guest) {
	l.t.Helper()
	for _, g := range gs {
		if _, _, err := g.console.waitFor(0, doneTimeout, markDone, is(markDone, nil)); err != nil {
			l.t.Fatalf("guest %s: %v", g.name, err)
		}
	}
	for _, g := range gs {
		l.tell(g, "bye")
	}
	for _, g := range gs {
		if err := g.waitExit(exitTimeout); err != nil {
			l.t.Errorf("guest %s: %v", g.name, err)
		}
	}
}

// tell writes a line to a guest's console or fails the test.
func (l *lab) tell(g *guest, line string) {
	l.t.Helper()
	if err := g.tell(line); err != nil {
		l.t.Fatalf("guest %s: %v", g.name, err)
	}
}
