package e2e_test

import (
	"fmt"
	"strings"
)

// gateway4 and gateway6 are the gateway addresses every guest sees.
const (
	gateway4 = "169.254.0.1"
	gateway6 = "fe80::1"
)

// plan is what a guest's /init does, handed over on the kernel command
// line as mvirt.KEY=VALUE parameters (guest/init documents them).
type plan struct {
	// static4, if set, is put on eth0 as a /32 with routes to and via the
	// gateway instead of running DHCP.
	static4 string
	// lo are prefixes to add on lo, such as addresses of a routed prefix.
	lo []string
	// ping must answer an echo request; noping must not.
	ping   []string
	noping []string
	// fetch are HTTP servers (HOST:PORT, an IPv6 HOST in brackets) whose
	// page the guest must fetch.
	fetch []string
	// loop is pinged every 0.2 s from the test's "go" to its "stop".
	loop string
	// renew makes dhcpcd renew both leases after the loop.
	renew bool
	// httpd are ports the guest serves a page on.
	httpd []string
	// steps makes the guest run the test's steps (lab.step) at the end.
	steps bool
	// gwmac is a permanent neighbour entry for the IPv4 gateway (static4
	// only), for back-ends that answer no ARP.
	gwmac string
	// recv is a TCP port the guest receives one file on (check recv/PORT),
	// send a file of random bytes it sends (ADDR:PORT:MIB, check
	// send/ADDR:PORT).
	recv, send string
	// sink is a TCP port the guest receives one stream on and throws it
	// away (check sink/PORT), blast a stream of zeros it sends
	// (ADDR:PORT:SECS, check blast/ADDR:PORT).
	sink, blast string
}

// Seconds the guest gives one positive check (a lease, a ping) and waits
// for each line from the test.
const (
	guestWait = 30
	guestHold = 300
)

// cmdline is the kernel command line that runs p in the guest named name.
// no_timer_check: under TCG on a busy host the kernel's check of the
// IO-APIC timer fails now and then, and it panics ("IO-APIC + timer
// doesn't work").
func (p plan) cmdline(name string) string {
	addr := "dhcp"
	if p.static4 != "" {
		addr = "static4:" + p.static4
	}
	args := []string{
		"console=ttyS0", "quiet", "panic=-1", "no_timer_check",
		"mvirt.name=" + name, "mvirt.addr=" + addr,
		fmt.Sprintf("mvirt.wait=%d", guestWait), fmt.Sprintf("mvirt.hold=%d", guestHold),
	}
	for _, l := range []struct {
		key  string
		vals []string
	}{{"lo", p.lo}, {"ping", p.ping}, {"noping", p.noping}, {"fetch", p.fetch}, {"httpd", p.httpd}} {
		if len(l.vals) > 0 {
			args = append(args, "mvirt."+l.key+"="+strings.Join(l.vals, ","))
		}
	}
	for _, o := range []struct{ key, val string }{
		{"loop", p.loop}, {"gwmac", p.gwmac}, {"recv", p.recv}, {"send", p.send}, {"sink", p.sink}, {"blast", p.blast},
	} {
		if o.val != "" {
			args = append(args, "mvirt."+o.key+"="+o.val)
		}
	}
	if p.renew {
		args = append(args, "mvirt.renew=1")
	}
	if p.steps {
		args = append(args, "mvirt.steps=1")
	}
	return strings.Join(args, " ")
}
