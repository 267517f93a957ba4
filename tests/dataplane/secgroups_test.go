package dataplane_test

import (
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"mvirt-net/reactor"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagACK = 0x10
)

// tcp4 is a TCP segment (no payload, correct checksums) from one NIC to
// an address.
func tcp4(from routedNic, dst netip.Addr, sp, dp uint16, flags uint8) []byte {
	seg := make([]byte, 20)
	binary.BigEndian.PutUint16(seg, sp)
	binary.BigEndian.PutUint16(seg[2:], dp)
	binary.BigEndian.PutUint32(seg[4:], 1000)
	seg[12], seg[13] = 5<<4, flags
	binary.BigEndian.PutUint16(seg[14:], 65535)
	binary.BigEndian.PutUint16(seg[16:], packet.TransportChecksum(packet.ProtoTCP, from.ip, dst, seg))
	return packettest.IPv4(from.mac, gwMAC, from.ip, dst, packet.ProtoTCP, 64, seg)
}

// passes sends frame from a and checks that b gets it, with the ports and
// flags it was sent with.
func passes(t *testing.T, from, to routedNic, frame []byte) {
	t.Helper()
	if err := from.g.Send(frame); err != nil {
		t.Fatal(err)
	}
	var sent packet.Parsed
	packet.Parse(frame, &sent)
	got := expectRouted(t, to, from.ip, 63)
	if got.IPProto != sent.IPProto || got.SrcPort != sent.SrcPort || got.DstPort != sent.DstPort {
		t.Fatalf("got %+v, sent %+v", got, sent)
	}
}

// blocked sends frame from a and checks that b gets nothing.
func blocked(t *testing.T, from, to routedNic, frame []byte) {
	t.Helper()
	if err := from.g.Send(frame); err != nil {
		t.Fatal(err)
	}
	expectNothing(t, to.g)
}

func addRule(t *testing.T, d *daemon.Daemon, req *netpb.AddSecurityGroupRuleRequest) *netpb.SecurityGroupRule {
	t.Helper()
	r, err := d.Client.AddSecurityGroupRule(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func conntrackOf(t *testing.T, d *daemon.Daemon, nicID string) []reactor.Connection {
	t.Helper()
	var out []reactor.Connection
	if err := json.Unmarshal([]byte(d.DebugGet("/debug/nics/"+nicID+"/conntrack")), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSecurityGroups drives two VMs through a group's life: rules take
// effect for the next new connection, tracked connections survive a rule
// removal, replies to what the VM opened always come in, detaching
// restores everything.
func TestSecurityGroups(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	n := createNetwork(t, d, "net")
	a := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	b := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	c := d.Client

	// No group: everything passes.
	passes(t, a, b, tcp4(a, b.ip, 40000, 81, flagSYN))
	passes(t, a, b, echo4(a, b.ip, 64, 1))

	g, err := c.CreateSecurityGroup(ctx(t), &netpb.CreateSecurityGroupRequest{Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	http := addRule(t, d, &netpb.AddSecurityGroupRuleRequest{SecurityGroupId: "web",
		Direction: netpb.RuleDirection_RULE_DIRECTION_INGRESS, Protocol: netpb.RuleProtocol_RULE_PROTOCOL_TCP, PortStart: 80})
	if _, err := c.AttachSecurityGroup(ctx(t), &netpb.AttachSecurityGroupRequest{NicId: b.Id, SecurityGroupId: g.Id}); err != nil {
		t.Fatal(err)
	}

	blocked(t, a, b, tcp4(a, b.ip, 40001, 81, flagSYN))
	blocked(t, a, b, echo4(a, b.ip, 64, 2))
	// The gateway still answers B: ARP and ping of 169.254.0.1.
	arpGateway(t, b.g, b.nicUnderTest)
	pingGateway(t, b.g, b.nicUnderTest, 1)

	// A connection to port 80, both ways.
	passes(t, a, b, tcp4(a, b.ip, 40002, 80, flagSYN))
	passes(t, b, a, tcp4(b, a.ip, 80, 40002, flagSYN|flagACK))
	passes(t, a, b, tcp4(a, b.ip, 40002, 80, flagACK))
	conns := conntrackOf(t, d, b.Id)
	if len(conns) != 1 || conns[0].Local.Port() != 80 || conns[0].Remote.Addr() != a.ip || conns[0].State != "established" || conns[0].Egress {
		t.Fatalf("conntrack of B: %+v", conns)
	}

	// Removing the rule keeps the connection and refuses the next one.
	if _, err := c.RemoveSecurityGroupRule(ctx(t), &netpb.RemoveSecurityGroupRuleRequest{RuleId: http.Id}); err != nil {
		t.Fatal(err)
	}
	passes(t, a, b, tcp4(a, b.ip, 40002, 80, flagACK))
	passes(t, b, a, tcp4(b, a.ip, 80, 40002, flagACK))
	blocked(t, a, b, tcp4(a, b.ip, 40003, 80, flagSYN))

	// B reaches out without any ingress rule, and gets its replies.
	passes(t, b, a, tcp4(b, a.ip, 50000, 22, flagSYN))
	passes(t, a, b, tcp4(a, b.ip, 22, 50000, flagSYN|flagACK))
	passes(t, b, a, echo4(b, a.ip, 64, 3))
	if err := a.g.Send(packettest.ICMPv4(a.mac, gwMAC, a.ip, b.ip, 0, 0, packettest.Echo(9, 3, []byte("vm to vm")))); err != nil {
		t.Fatal(err)
	}
	expectRouted(t, b, a.ip, 63)

	// Ping is refused until an ICMP rule comes.
	blocked(t, a, b, echo4(a, b.ip, 64, 4))
	addRule(t, d, &netpb.AddSecurityGroupRuleRequest{SecurityGroupId: g.Id,
		Direction: netpb.RuleDirection_RULE_DIRECTION_INGRESS, Protocol: netpb.RuleProtocol_RULE_PROTOCOL_ICMP, Cidr: "10.0.0.0/24"})
	passes(t, a, b, echo4(a, b.ip, 64, 5))

	if got := drops(t, d, b.Id); got["sg_ingress_denied"] != 4 {
		t.Fatalf("sg_ingress_denied of B: %v", got)
	}
	if m := d.DebugGet("/metrics"); !strings.Contains(m, `reason="sg_ingress_denied"`) {
		t.Fatal("metrics lack sg_ingress_denied")
	}

	// Detaching restores everything.
	if _, err := c.DetachSecurityGroup(ctx(t), &netpb.DetachSecurityGroupRequest{NicId: b.Id, SecurityGroupId: g.Id}); err != nil {
		t.Fatal(err)
	}
	passes(t, a, b, tcp4(a, b.ip, 40004, 81, flagSYN))
}

// TestEgressRule: with an egress rule a VM sends only what it allows, and
// still answers what came in.
func TestEgressRule(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	n := createNetwork(t, d, "net")
	a := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	b := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	if _, err := d.Client.CreateSecurityGroup(ctx(t), &netpb.CreateSecurityGroupRequest{Name: "locked"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*netpb.AddSecurityGroupRuleRequest{
		{SecurityGroupId: "locked", Direction: netpb.RuleDirection_RULE_DIRECTION_EGRESS, Protocol: netpb.RuleProtocol_RULE_PROTOCOL_TCP, PortStart: 443},
		{SecurityGroupId: "locked", Direction: netpb.RuleDirection_RULE_DIRECTION_INGRESS, Protocol: netpb.RuleProtocol_RULE_PROTOCOL_TCP, PortStart: 22},
	} {
		addRule(t, d, r)
	}
	if _, err := d.Client.AttachSecurityGroup(ctx(t), &netpb.AttachSecurityGroupRequest{NicId: a.Id, SecurityGroupId: "locked"}); err != nil {
		t.Fatal(err)
	}
	blocked(t, a, b, tcp4(a, b.ip, 40000, 80, flagSYN))
	passes(t, a, b, tcp4(a, b.ip, 40000, 443, flagSYN))
	passes(t, b, a, tcp4(b, a.ip, 50000, 22, flagSYN))
	passes(t, a, b, tcp4(a, b.ip, 22, 50000, flagSYN|flagACK))
	if got := drops(t, d, a.Id); got["sg_egress_denied"] != 1 {
		t.Fatalf("sg_egress_denied of A: %v", got)
	}
}
