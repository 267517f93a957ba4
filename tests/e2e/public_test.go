package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// The outside world of the public-network tests, documentation addresses
// only: the daemon runs in a "host" namespace joined by a veth pair to an
// "outside" namespace, which holds the ping target and an HTTP server.
// Nothing leaves the two namespaces.
const (
	hostVeth4, hostVeth6 = "198.51.100.1", "2001:db8:ff::1"
	outside4, outside6   = "198.51.100.2", "2001:db8:ff::2"
	public4, public6     = "203.0.113.0/25", "2001:db8:77::/64"
	outsidePage          = "mvirt-outside-page"
)

// world is a host namespace (for the daemon) and an outside one.
type world struct {
	t             *testing.T
	host, outside string
	httpLog       *daemon.LockedBuffer
}

func sh(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newWorld builds the two namespaces and starts the outside's HTTP server
// (busybox httpd, logging every client's address). routeBack routes the
// public prefixes back via the host, as an upstream router that knows
// them does; without it only masquerading makes answers come back.
func newWorld(t *testing.T, routeBack bool) *world {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	w := &world{t: t, host: daemon.Netns(t), outside: daemon.Netns(t), httpLog: &daemon.LockedBuffer{}}
	sh(t, "ip", "-n", w.host, "link", "add", "vh0", "type", "veth", "peer", "name", "vo0", "netns", w.outside)
	for _, c := range [][]string{
		{"ip", "-n", w.host, "addr", "add", hostVeth4 + "/24", "dev", "vh0"},
		{"ip", "-n", w.host, "addr", "add", hostVeth6 + "/64", "dev", "vh0", "nodad"},
		{"ip", "-n", w.host, "link", "set", "vh0", "up"},
		{"ip", "-n", w.outside, "addr", "add", outside4 + "/24", "dev", "vo0"},
		{"ip", "-n", w.outside, "addr", "add", outside6 + "/64", "dev", "vo0", "nodad"},
		{"ip", "-n", w.outside, "link", "set", "vo0", "up"},
	} {
		sh(t, c...)
	}
	if routeBack {
		sh(t, "ip", "-n", w.outside, "route", "add", public4, "via", hostVeth4)
		sh(t, "ip", "-n", w.outside, "-6", "route", "add", public6, "via", hostVeth6)
	}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "index.html"), []byte(outsidePage+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	httpd := exec.Command("ip", "netns", "exec", w.outside, "busybox", "httpd", "-f", "-vv", "-p", "8080", "-h", root)
	httpd.Stdout, httpd.Stderr = w.httpLog, w.httpLog
	if err := httpd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = httpd.Process.Kill(); _ = httpd.Wait() })
	return w
}

// lab starts the daemon in the host namespace (forwarding turned on by the
// daemon itself) with a public network.
func (w *world) lab(args ...string) (*lab, *netpb.Network) {
	w.t.Helper()
	dirs := daemon.NewDirs(w.t)
	dirs.Netns = w.host
	l := newLabOn(w.t, dirs, append([]string{"--uplink-forwarding"}, args...)...)
	n := l.createNetwork(&netpb.CreateNetworkRequest{Name: "public", Ipv4Enabled: true, Ipv4Subnet: public4,
		Ipv6Enabled: true, Ipv6Prefix: public6, IsPublic: true})
	return l, n
}

var outsideURLs = []string{outside4 + ":8080", "[" + outside6 + "]:8080"}

// expectOutside checks that g pinged and fetched from the outside, and
// that the HTTP server saw the requests come from from4 and from6.
func (w *world) expectOutside(g *guest, from4, from6 string) {
	w.t.Helper()
	g.expectPings(w.t, outside4, outside6)
	for _, u := range outsideURLs {
		g.expectOK(w.t, "fetch/"+u, map[string]string{"body": outsidePage})
	}
	log := w.httpLog.String()
	for _, from := range []string{from4, from6} {
		if !strings.Contains(log, from+"]") {
			w.t.Errorf("the outside HTTP server saw no request from %s:\n%s", from, log)
		}
	}
}

// TestPublicNetworkRouted: a guest on a public network gets its addresses
// by DHCP, pings the outside over IPv4 and IPv6 and fetches a page from
// its HTTP server, which sees the guest's own addresses (the outside
// routes the public prefixes back to the host). A guest on a network that
// is not public reaches nothing outside.
func TestPublicNetworkRouted(t *testing.T) {
	t.Parallel()
	w := newWorld(t, true)
	l, pub := w.lab()
	private := l.network("private", "10.77.0.0/24", "fd77::/64")
	nicPub := l.nic(&netpb.CreateNicRequest{NetworkId: pub.Id, Name: "pub"})
	nicPriv := l.nic(&netpb.CreateNicRequest{NetworkId: private.Id, Name: "priv"})
	a := l.boot("pub", nicPub, plan{ping: []string{outside4, outside6}, fetch: outsideURLs})
	b := l.boot("priv", nicPriv, plan{noping: []string{outside4, outside6}})
	l.ready(a, b)
	l.finish(a, b)
	for _, g := range []*guest{a, b} {
		g.expectAddresses(t)
		g.expectAllPassed(t)
	}
	w.expectOutside(a, "::ffff:"+nicPub.Ipv4Address, nicPub.Ipv6Address)
	b.expectOK(t, "noping/"+outside4, nil)
	b.expectOK(t, "noping/"+outside6, nil)
}

// TestPublicNetworkMasquerade: with --uplink-masquerade and
// --uplink-masquerade6 on the host's outside interface, the outside has
// no route back, and the same fetch works: the server sees the host's
// veth addresses.
func TestPublicNetworkMasquerade(t *testing.T) {
	t.Parallel()
	w := newWorld(t, false)
	l, pub := w.lab("--uplink-masquerade", "vh0", "--uplink-masquerade6")
	nic := l.nic(&netpb.CreateNicRequest{NetworkId: pub.Id, Name: "pub"})
	g := l.boot("pub", nic, plan{ping: []string{outside4, outside6}, fetch: outsideURLs})
	l.ready(g)
	l.finish(g)
	g.expectAddresses(t)
	g.expectAllPassed(t)
	w.expectOutside(g, "::ffff:"+hostVeth4, hostVeth6)
}

// TestPublicNetworkDaemonRestart: SIGKILL of the daemon while a guest on
// a public network pings the outside at 5 Hz; the daemon starts again on
// the same folders, its uplink, routes and forwarding come back, QEMU
// reconnects, and the pings resume with the guest's addresses unchanged.
func TestPublicNetworkDaemonRestart(t *testing.T) {
	t.Parallel()
	w := newWorld(t, true)
	l, pub := w.lab()
	nic := l.nic(&netpb.CreateNicRequest{NetworkId: pub.Id, Name: "pub"})
	g := l.boot("pub", nic, plan{ping: []string{outside4}, loop: outside4, renew: true})
	l.ready(g)
	if _, _, err := g.console.waitFor(0, loopTimeout, "answered ping loop", func(s string) bool {
		return pingState(s) == "up"
	}); err != nil {
		t.Fatalf("guest %s: %v", g.name, err)
	}
	time.Sleep(afterTime)
	mark := g.console.len()
	start := time.Now()
	dirs := l.d.Dirs()
	l.d.Kill()
	l.d = daemon.Start(t, dirs, "--uplink-forwarding")
	resumed := awaitResumed(t, g, mark, start, true)
	time.Sleep(afterTime)
	l.tell(g, "stop")
	l.finish(g)
	g.expectAddresses(t)
	g.expectOK(t, "loop/"+outside4, map[string]string{"end": "up"})
	g.expectOK(t, "renew4", map[string]string{"addr": nic.Ipv4Address + "/32"})
	g.expectOK(t, "renew6", map[string]string{"addr": nic.Ipv6Address + "/128"})
	g.expectAllPassed(t)
	t.Logf("E2E public-daemon-restart pings_back_s=%.1f", resumed.Seconds())
}
