package e2e_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"mvirt-net/rpc/netpb"
)

// Pacing of a disruption: the loop must be answered before it
// (loopTimeout at most) and run afterTime; after it the test waits at
// least settleTime, then until the loop's target answers again
// (resumeTimeout at most), and lets it run afterTime more.
const (
	loopTimeout   = time.Minute
	settleTime    = 5 * time.Second
	resumeTimeout = time.Minute
	afterTime     = 2 * time.Second
)

// disruption is what a test does to the daemon under a running guest.
type disruption struct {
	name string
	// mustDrop says the guest must see its pings go unanswered.
	mustDrop bool
	do       func(l *lab, nic *netpb.Nic)
}

// underLoad boots a guest that pings the gateway in a loop, applies d
// while it does, and checks that traffic comes back, the NIC is active
// again, and both leases renew with the NIC's addresses. It reports the
// outage (the longest time between two replies the guest saw) and the
// pings lost.
func underLoad(t *testing.T, d disruption) {
	l := newLab(t)
	n := l.network(d.name, "10.0.0.0/24", "fd00::/64")
	nic := l.nic(&netpb.CreateNicRequest{NetworkId: n.Id, Name: "vm"})
	g := l.boot("vm", nic, plan{ping: []string{gateway4, gateway6}, loop: gateway4, renew: true})
	l.ready(g)
	if _, _, err := g.console.waitFor(0, loopTimeout, "answered ping loop", func(s string) bool {
		return pingState(s) == "up"
	}); err != nil {
		t.Fatalf("guest %s: %v", g.name, err)
	}
	time.Sleep(afterTime)

	mark := g.console.len()
	start := time.Now()
	d.do(l, nic)
	resumed := awaitResumed(t, g, mark, start, d.mustDrop)
	if s := l.getNic(nic.Id).State; s != netpb.NicState_NIC_STATE_ACTIVE {
		t.Errorf("after %s GetNic says %v, want NIC_STATE_ACTIVE", d.name, s)
	}
	time.Sleep(afterTime)
	l.tell(g, "stop")
	l.finish(g)

	g.expectAddresses(t)
	g.expectPings(t, gateway4, gateway6)
	loop := g.expectOK(t, "loop/"+gateway4, map[string]string{"end": "up"})
	g.expectOK(t, "renew4", map[string]string{"addr": nic.Ipv4Address + "/32"})
	g.expectOK(t, "renew6", map[string]string{"addr": nic.Ipv6Address + "/128"})
	g.expectAllPassed(t)

	// The carrier comes back when QEMU has reconnected and the backend
	// runs the rings again; the rest of the outage is the guest's DHCP
	// client binding again after the carrier loss.
	linkBack := "none"
	if i := g.console.find(mark, is(markEvent, map[string]string{"reason": "CARRIER"})); i >= 0 {
		linkBack = fmt.Sprintf("%.1f", g.console.at(i).Sub(start).Seconds())
	}
	gap, _ := strconv.Atoi(loop.fields["maxgap_ms"])
	summary := fmt.Sprintf("E2E %s outage_s=%.1f lost_pings=%s sent_pings=%s carrier_back_s=%s pings_back_s=%.1f",
		d.name, float64(gap)/1000, loop.fields["lost"], loop.fields["sent"], linkBack, resumed.Seconds())
	t.Log(summary)
	fmt.Println(summary)
}

// awaitResumed waits, after a disruption that began at start, until the
// guest's ping loop is answered again: at least settleTime later, with no
// unanswered state left after console line mark, and after a gap in the
// answers if mustDrop. It returns how long after start the answers came
// back as seen on the console, or 0 if they never stopped.
func awaitResumed(t *testing.T, g *guest, mark int, start time.Time, mustDrop bool) time.Duration {
	t.Helper()
	var resumedAt time.Time
	for {
		dropped, state := false, "up"
		for _, s := range g.console.since(mark) {
			if st := pingState(s); st != "" {
				state = st
				dropped = dropped || st == "down"
			}
		}
		answered := state == "up" && (dropped || !mustDrop)
		switch {
		case !answered:
			resumedAt = time.Time{}
		case resumedAt.IsZero():
			resumedAt = time.Now()
		}
		if answered && time.Since(start) >= settleTime {
			if !dropped {
				return 0
			}
			return resumedAt.Sub(start)
		}
		if time.Since(start) > resumeTimeout {
			t.Fatalf("guest %s: ping loop state %q (dropped: %v) %s after the disruption", g.name, state, dropped, resumeTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pingState returns "up" or "down" for a ping loop marker, else "".
func pingState(line string) string {
	m, ok := parseMarker(line, markPing)
	if !ok || len(m.words) != 1 {
		return ""
	}
	return m.words[0]
}
