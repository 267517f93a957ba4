package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"mvirt-net/rpc/netpb"
)

// stepTimeout bounds one step of a guest (a few fetches or pings).
const stepTimeout = time.Minute

// step has guest g run one step ("fetch ADDR PORT", "nofetch ADDR PORT",
// "ping ADDR" or "noping ADDR") and fails the test unless it passes.
func (l *lab) step(g *guest, name, cmd string) {
	l.t.Helper()
	mark := g.console.len()
	l.tell(g, name+" "+cmd)
	_, line, err := g.console.waitFor(mark, stepTimeout, "step "+name, is(markCheck, map[string]string{"name": name}))
	if err != nil {
		l.t.Fatalf("guest %s: %v", g.name, err)
	}
	if m, _ := parseMarker(line, markCheck); !m.ok() {
		l.t.Fatalf("guest %s: step %s (%s) failed: %s", g.name, name, cmd, m.line)
	}
}

// TestSecurityGroupsWithGuests runs busybox httpd, wget and ping in two
// real guests while a security group comes and goes on b: without it
// everything passes; with TCP 80 allowed in, a fetches b's page on port
// 80 but not on 81, and its pings go unanswered until an ICMP rule comes;
// b still reaches a (replies come back without an ingress rule); detaching
// the group lets everything through again.
func TestSecurityGroupsWithGuests(t *testing.T) {
	t.Parallel()
	l := newLab(t)
	n := l.network("sg", "10.0.0.0/24", "fd00::/64")
	nicA := l.nic(&netpb.CreateNicRequest{NetworkId: n.Id, Name: "a"})
	nicB := l.nic(&netpb.CreateNicRequest{NetworkId: n.Id, Name: "b"})
	a := l.boot("a", nicA, plan{httpd: []string{"80"}, steps: true})
	b := l.boot("b", nicB, plan{httpd: []string{"80", "81"}, steps: true})
	l.ready(a, b)
	ipA, ipB := nicA.Ipv4Address, nicB.Ipv4Address
	web := func(port int) string { return fmt.Sprintf("%s %d", ipB, port) }

	l.step(a, "open/80", "fetch "+web(80))
	l.step(a, "open/81", "fetch "+web(81))
	l.step(a, "open/ping", "ping "+ipB)

	c := l.d.Client
	g, err := c.CreateSecurityGroup(l.ctx(), &netpb.CreateSecurityGroupRequest{Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddSecurityGroupRule(l.ctx(), &netpb.AddSecurityGroupRuleRequest{SecurityGroupId: g.Id,
		Direction: netpb.RuleDirection_RULE_DIRECTION_INGRESS, Protocol: netpb.RuleProtocol_RULE_PROTOCOL_TCP, PortStart: 80}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachSecurityGroup(l.ctx(), &netpb.AttachSecurityGroupRequest{NicId: "b", SecurityGroupId: "web"}); err != nil {
		t.Fatal(err)
	}
	l.step(a, "web/80", "fetch "+web(80))
	l.step(a, "web/81", "nofetch "+web(81))
	l.step(a, "web/ping", "noping "+ipB)
	l.step(b, "web/out", "fetch "+ipA+" 80")
	l.step(b, "web/outping", "ping "+ipA)

	if _, err := c.AddSecurityGroupRule(l.ctx(), &netpb.AddSecurityGroupRuleRequest{SecurityGroupId: g.Id,
		Direction: netpb.RuleDirection_RULE_DIRECTION_INGRESS, Protocol: netpb.RuleProtocol_RULE_PROTOCOL_ICMP}); err != nil {
		t.Fatal(err)
	}
	l.step(a, "icmp/ping", "ping "+ipB)
	l.step(a, "icmp/81", "nofetch "+web(81))

	if drops := l.d.DebugGet("/metrics"); !strings.Contains(drops, `reason="sg_ingress_denied"`) {
		t.Error("metrics lack sg_ingress_denied")
	}
	if _, err := c.DetachSecurityGroup(l.ctx(), &netpb.DetachSecurityGroupRequest{NicId: "b", SecurityGroupId: "web"}); err != nil {
		t.Fatal(err)
	}
	l.step(a, "detached/81", "fetch "+web(81))
	l.step(a, "detached/ping", "ping "+ipB)

	for _, g := range []*guest{a, b} {
		l.tell(g, "end")
	}
	l.finish(a, b)
	for _, g := range []*guest{a, b} {
		g.expectAddresses(t)
		g.expectAllPassed(t)
	}
}
