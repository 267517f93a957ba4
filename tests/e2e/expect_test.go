package e2e_test

import "testing"

// checks returns the guest's check markers so far by name.
func (g *guest) checks() map[string]marker {
	out := map[string]marker{}
	for _, l := range g.console.since(0) {
		if m, ok := parseMarker(l, markCheck); ok {
			out[m.fields["name"]] = m
		}
	}
	return out
}

// expectOK fails the test unless the guest reported check name as ok with
// the given fields, and returns the check's marker.
func (g *guest) expectOK(t *testing.T, name string, want map[string]string) marker {
	t.Helper()
	m, found := g.checks()[name]
	switch {
	case !found:
		t.Errorf("guest %s: no check %s on the console", g.name, name)
		return m
	case !m.ok():
		t.Errorf("guest %s: check failed: %s", g.name, m.line)
	}
	for k, v := range want {
		if m.fields[k] != v {
			t.Errorf("guest %s: check %s: %s=%q, want %q (%s)", g.name, name, k, m.fields[k], v, m.line)
		}
	}
	return m
}

// expectAllPassed fails the test for every check of the guest that
// failed, including the ones the test does not look at one by one.
func (g *guest) expectAllPassed(t *testing.T) {
	t.Helper()
	for _, m := range g.checks() {
		if !m.ok() {
			t.Errorf("guest %s: check failed: %s", g.name, m.line)
		}
	}
}

// expectAddresses checks that the guest got exactly its NIC's /32 and
// /128 and default routes via the gateway of each family.
func (g *guest) expectAddresses(t *testing.T) {
	t.Helper()
	g.expectOK(t, "ipv4", map[string]string{"addr": g.nic.Ipv4Address + "/32"})
	g.expectOK(t, "ipv6", map[string]string{"addr": g.nic.Ipv6Address + "/128"})
	g.expectOK(t, "route4", map[string]string{"via": gateway4})
	g.expectOK(t, "route6", map[string]string{"via": gateway6})
}

// expectPings checks that every address answered the guest's pings, the
// full-size ones (1500-byte packets) too.
func (g *guest) expectPings(t *testing.T, addrs ...string) {
	t.Helper()
	for _, a := range addrs {
		g.expectOK(t, "ping/"+a, nil)
		g.expectOK(t, "bigping/"+a, nil)
	}
}
