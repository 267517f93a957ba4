package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

func mustGroup(t *testing.T, c netpb.NetServiceClient, name string) *netpb.SecurityGroup {
	t.Helper()
	g, err := c.CreateSecurityGroup(ctx(t), &netpb.CreateSecurityGroupRequest{Name: name, Description: "for " + name})
	if err != nil {
		t.Fatalf("CreateSecurityGroup(%s): %v", name, err)
	}
	return g
}

func mustRule(t *testing.T, c netpb.NetServiceClient, req *netpb.AddSecurityGroupRuleRequest) *netpb.SecurityGroupRule {
	t.Helper()
	r, err := c.AddSecurityGroupRule(ctx(t), req)
	if err != nil {
		t.Fatalf("AddSecurityGroupRule(%v): %v", req, err)
	}
	return r
}

func getGroup(t *testing.T, c netpb.NetServiceClient, name string) *netpb.SecurityGroup {
	t.Helper()
	g, err := c.GetSecurityGroup(ctx(t), &netpb.GetSecurityGroupRequest{Identifier: &netpb.GetSecurityGroupRequest_Name{Name: name}})
	if err != nil {
		t.Fatalf("GetSecurityGroup(%s): %v", name, err)
	}
	return g
}

const (
	ingress = netpb.RuleDirection_RULE_DIRECTION_INGRESS
	egress  = netpb.RuleDirection_RULE_DIRECTION_EGRESS
	tcp     = netpb.RuleProtocol_RULE_PROTOCOL_TCP
)

func TestSecurityGroupLifecycle(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	web := mustGroup(t, c, "web")
	if web.Id == "" || web.Name != "web" || web.Description != "for web" || web.NicCount != 0 || len(web.Rules) != 0 || web.CreatedAt == "" {
		t.Fatalf("created group: %v", web)
	}
	mustGroup(t, c, "admin")
	for _, req := range []*netpb.GetSecurityGroupRequest{
		{Identifier: &netpb.GetSecurityGroupRequest_Id{Id: web.Id}},
		{Identifier: &netpb.GetSecurityGroupRequest_Name{Name: "web"}},
	} {
		if g, err := c.GetSecurityGroup(ctx(t), req); err != nil || g.Id != web.Id {
			t.Fatalf("GetSecurityGroup(%v): %v %v", req, g, err)
		}
	}
	list, err := c.ListSecurityGroups(ctx(t), &netpb.ListSecurityGroupsRequest{})
	if err != nil || len(list.SecurityGroups) != 2 || list.SecurityGroups[0].Name != "admin" || list.SecurityGroups[1].Name != "web" {
		t.Fatalf("ListSecurityGroups: %v %v", list, err)
	}

	r80 := mustRule(t, c, &netpb.AddSecurityGroupRuleRequest{SecurityGroupId: "web", Direction: ingress, Protocol: tcp, PortStart: 80, Description: "http"})
	if r80.Id == "" || r80.SecurityGroupId != web.Id || r80.PortStart != 80 || r80.PortEnd != 0 || r80.Cidr != "" || r80.Description != "http" {
		t.Fatalf("rule: %v", r80)
	}
	mustRule(t, c, &netpb.AddSecurityGroupRuleRequest{SecurityGroupId: web.Id, Direction: ingress,
		Protocol: netpb.RuleProtocol_RULE_PROTOCOL_UDP, PortStart: 8000, PortEnd: 8100, Cidr: "198.51.100.0/24"})
	mustRule(t, c, &netpb.AddSecurityGroupRuleRequest{SecurityGroupId: web.Id, Direction: egress,
		Protocol: netpb.RuleProtocol_RULE_PROTOCOL_ICMPV6, Cidr: "2001:db8::/32"})
	if g := getGroup(t, c, "web"); len(g.Rules) != 3 || g.Rules[0].Id != r80.Id {
		t.Fatalf("group rules: %v", g)
	}
	rm, err := c.RemoveSecurityGroupRule(ctx(t), &netpb.RemoveSecurityGroupRuleRequest{RuleId: r80.Id})
	if err != nil || !rm.Deleted {
		t.Fatalf("RemoveSecurityGroupRule: %v %v", rm, err)
	}
	_, err = c.RemoveSecurityGroupRule(ctx(t), &netpb.RemoveSecurityGroupRuleRequest{RuleId: r80.Id})
	wantCode(t, err, codes.NotFound)
	if g := getGroup(t, c, "web"); len(g.Rules) != 2 {
		t.Fatalf("rule not removed: %v", g)
	}

	n := mustNetwork(t, c, dual("prod"))
	a := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "a"})
	b := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "b"})
	at, err := c.AttachSecurityGroup(ctx(t), &netpb.AttachSecurityGroupRequest{NicId: "a", SecurityGroupId: "web"})
	if err != nil || !at.Attached {
		t.Fatalf("AttachSecurityGroup: %v %v", at, err)
	}
	at, err = c.AttachSecurityGroup(ctx(t), &netpb.AttachSecurityGroupRequest{NicId: a.Id, SecurityGroupId: web.Id})
	if err != nil || at.Attached {
		t.Fatalf("second AttachSecurityGroup: %v %v", at, err)
	}
	if _, err := c.AttachSecurityGroup(ctx(t), &netpb.AttachSecurityGroupRequest{NicId: b.Id, SecurityGroupId: "web"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachSecurityGroup(ctx(t), &netpb.AttachSecurityGroupRequest{NicId: b.Id, SecurityGroupId: "admin"}); err != nil {
		t.Fatal(err)
	}
	if g := getGroup(t, c, "web"); g.NicCount != 2 {
		t.Fatalf("nic_count: %v", g)
	}
	_, err = c.DeleteSecurityGroup(ctx(t), &netpb.DeleteSecurityGroupRequest{Id: web.Id})
	wantCode(t, err, codes.FailedPrecondition)
	if g := getGroup(t, c, "web"); g.NicCount != 2 || len(g.Rules) != 2 {
		t.Fatalf("refused delete changed the group: %v", g)
	}

	dt, err := c.DetachSecurityGroup(ctx(t), &netpb.DetachSecurityGroupRequest{NicId: "a", SecurityGroupId: "web"})
	if err != nil || !dt.Detached {
		t.Fatalf("DetachSecurityGroup: %v %v", dt, err)
	}
	dt, err = c.DetachSecurityGroup(ctx(t), &netpb.DetachSecurityGroupRequest{NicId: "a", SecurityGroupId: "web"})
	if err != nil || dt.Detached {
		t.Fatalf("second DetachSecurityGroup: %v %v", dt, err)
	}
	if g := getGroup(t, c, "web"); g.NicCount != 1 {
		t.Fatalf("nic_count after detach: %v", g)
	}

	// Deleting a NIC detaches it.
	if _, err := c.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: b.Id}); err != nil {
		t.Fatal(err)
	}
	if g := getGroup(t, c, "web"); g.NicCount != 0 {
		t.Fatalf("nic_count after deleting the nic: %v", g)
	}
	if g := getGroup(t, c, "admin"); g.NicCount != 0 {
		t.Fatalf("nic_count after deleting the nic: %v", g)
	}

	if _, err := c.AttachSecurityGroup(ctx(t), &netpb.AttachSecurityGroupRequest{NicId: a.Id, SecurityGroupId: "web"}); err != nil {
		t.Fatal(err)
	}
	del, err := c.DeleteSecurityGroup(ctx(t), &netpb.DeleteSecurityGroupRequest{Id: "web", Force: true})
	if err != nil || !del.Deleted || del.NicsDetached != 1 {
		t.Fatalf("forced DeleteSecurityGroup: %v %v", del, err)
	}
	_, err = c.GetSecurityGroup(ctx(t), &netpb.GetSecurityGroupRequest{Identifier: &netpb.GetSecurityGroupRequest_Id{Id: web.Id}})
	wantCode(t, err, codes.NotFound)
	// The name is free again.
	mustGroup(t, c, "web")

	// The debug endpoint lists a NIC's (here empty) connection table.
	var conns []json.RawMessage
	if err := json.Unmarshal([]byte(httpGet(t, "http://"+d.DebugAddr+"/debug/nics/"+a.Id+"/conntrack")), &conns); err != nil || len(conns) != 0 {
		t.Fatalf("conntrack of an idle nic: %v %v", conns, err)
	}
	for _, want := range []string{`reason="sg_ingress_denied"`, `reason="sg_egress_denied"`, `reason="conntrack_full"`} {
		if m := httpGet(t, "http://"+d.DebugAddr+"/metrics"); !strings.Contains(m, want) {
			t.Fatalf("metrics lack %s", want)
		}
	}
}

func TestSecurityGroupBadInput(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	g := mustGroup(t, c, "web")
	n := mustNetwork(t, c, dual("prod"))
	nic := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "a"})
	if _, err := c.AttachSecurityGroup(ctx(t), &netpb.AttachSecurityGroupRequest{NicId: nic.Id, SecurityGroupId: g.Id}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		req  *netpb.CreateSecurityGroupRequest
		code codes.Code
	}{
		{"duplicate name", &netpb.CreateSecurityGroupRequest{Name: "web"}, codes.AlreadyExists},
		{"blank name", &netpb.CreateSecurityGroupRequest{Name: ""}, codes.InvalidArgument},
		{"spaces", &netpb.CreateSecurityGroupRequest{Name: " web"}, codes.InvalidArgument},
		{"long description", &netpb.CreateSecurityGroupRequest{Name: "x", Description: strings.Repeat("d", 300)}, codes.InvalidArgument},
	} {
		_, err := c.CreateSecurityGroup(ctx(t), tc.req)
		t.Run("create "+tc.name, func(t *testing.T) { wantCode(t, err, tc.code) })
	}

	rule := func(mod func(*netpb.AddSecurityGroupRuleRequest)) *netpb.AddSecurityGroupRuleRequest {
		r := &netpb.AddSecurityGroupRuleRequest{SecurityGroupId: g.Id, Direction: ingress, Protocol: tcp, PortStart: 80}
		mod(r)
		return r
	}
	for _, tc := range []struct {
		name string
		req  *netpb.AddSecurityGroupRuleRequest
		code codes.Code
	}{
		{"no group", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.SecurityGroupId = "" }), codes.InvalidArgument},
		{"missing group", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.SecurityGroupId = "nope" }), codes.NotFound},
		{"unspecified direction", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.Direction = 0 }), codes.InvalidArgument},
		{"unknown direction", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.Direction = 7 }), codes.InvalidArgument},
		{"unspecified protocol", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.Protocol = 0 }), codes.InvalidArgument},
		{"unknown protocol", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.Protocol = 9 }), codes.InvalidArgument},
		{"start above end", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.PortStart, r.PortEnd = 90, 80 }), codes.InvalidArgument},
		{"port above 65535", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.PortStart = 70000 }), codes.InvalidArgument},
		{"end above 65535", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.PortEnd = 65536 }), codes.InvalidArgument},
		{"ports on icmp", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.Protocol = netpb.RuleProtocol_RULE_PROTOCOL_ICMP }), codes.InvalidArgument},
		{"ports on icmpv6", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.Protocol = netpb.RuleProtocol_RULE_PROTOCOL_ICMPV6 }), codes.InvalidArgument},
		{"ports on all", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.Protocol = netpb.RuleProtocol_RULE_PROTOCOL_ALL }), codes.InvalidArgument},
		{"malformed cidr", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.Cidr = "10.0.0.0/33" }), codes.InvalidArgument},
		{"not a cidr", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.Cidr = "office" }), codes.InvalidArgument},
		{"bare address", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.Cidr = "10.0.0.1" }), codes.InvalidArgument},
		{"host bits", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.Cidr = "10.0.0.1/24" }), codes.InvalidArgument},
		{"non-canonical v6", rule(func(r *netpb.AddSecurityGroupRuleRequest) { r.Cidr = "2001:0db8::/32" }), codes.InvalidArgument},
		{"v6 cidr on icmp", &netpb.AddSecurityGroupRuleRequest{SecurityGroupId: g.Id, Direction: ingress,
			Protocol: netpb.RuleProtocol_RULE_PROTOCOL_ICMP, Cidr: "2001:db8::/32"}, codes.InvalidArgument},
		{"v4 cidr on icmpv6", &netpb.AddSecurityGroupRuleRequest{SecurityGroupId: g.Id, Direction: ingress,
			Protocol: netpb.RuleProtocol_RULE_PROTOCOL_ICMPV6, Cidr: "198.51.100.0/24"}, codes.InvalidArgument},
	} {
		_, err := c.AddSecurityGroupRule(ctx(t), tc.req)
		t.Run("rule "+tc.name, func(t *testing.T) { wantCode(t, err, tc.code) })
	}
	mustRule(t, c, rule(func(*netpb.AddSecurityGroupRuleRequest) {}))
	_, err := c.AddSecurityGroupRule(ctx(t), rule(func(*netpb.AddSecurityGroupRuleRequest) {}))
	wantCode(t, err, codes.AlreadyExists)
	want := getGroup(t, c, "web")

	for _, tc := range []struct {
		name string
		err  error
		code codes.Code
	}{
		{"get nothing", second(c.GetSecurityGroup(ctx(t), &netpb.GetSecurityGroupRequest{})), codes.InvalidArgument},
		{"get missing", second(c.GetSecurityGroup(ctx(t), &netpb.GetSecurityGroupRequest{Identifier: &netpb.GetSecurityGroupRequest_Id{Id: "f00"}})), codes.NotFound},
		{"delete nothing", second(c.DeleteSecurityGroup(ctx(t), &netpb.DeleteSecurityGroupRequest{})), codes.InvalidArgument},
		{"delete missing", second(c.DeleteSecurityGroup(ctx(t), &netpb.DeleteSecurityGroupRequest{Id: "f00"})), codes.NotFound},
		{"delete attached", second(c.DeleteSecurityGroup(ctx(t), &netpb.DeleteSecurityGroupRequest{Id: g.Id})), codes.FailedPrecondition},
		{"remove no rule", second(c.RemoveSecurityGroupRule(ctx(t), &netpb.RemoveSecurityGroupRuleRequest{})), codes.InvalidArgument},
		{"remove unknown rule", second(c.RemoveSecurityGroupRule(ctx(t), &netpb.RemoveSecurityGroupRuleRequest{RuleId: "f00"})), codes.NotFound},
		{"attach no nic", second(c.AttachSecurityGroup(ctx(t), &netpb.AttachSecurityGroupRequest{SecurityGroupId: g.Id})), codes.InvalidArgument},
		{"attach no group", second(c.AttachSecurityGroup(ctx(t), &netpb.AttachSecurityGroupRequest{NicId: nic.Id})), codes.InvalidArgument},
		{"attach missing nic", second(c.AttachSecurityGroup(ctx(t), &netpb.AttachSecurityGroupRequest{NicId: "f00", SecurityGroupId: g.Id})), codes.NotFound},
		{"attach missing group", second(c.AttachSecurityGroup(ctx(t), &netpb.AttachSecurityGroupRequest{NicId: nic.Id, SecurityGroupId: "f00"})), codes.NotFound},
		{"detach missing nic", second(c.DetachSecurityGroup(ctx(t), &netpb.DetachSecurityGroupRequest{NicId: "f00", SecurityGroupId: g.Id})), codes.NotFound},
		{"detach missing group", second(c.DetachSecurityGroup(ctx(t), &netpb.DetachSecurityGroupRequest{NicId: nic.Id, SecurityGroupId: "f00"})), codes.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.err, tc.code) })
	}
	if got := getGroup(t, c, "web"); !proto.Equal(got, want) {
		t.Fatalf("bad input changed the group:\nwant %v\ngot  %v", want, got)
	}
	if list, err := c.ListSecurityGroups(ctx(t), &netpb.ListSecurityGroupsRequest{}); err != nil || len(list.SecurityGroups) != 1 {
		t.Fatalf("bad input added groups: %v %v", list, err)
	}
}

func second[T any](_ T, err error) error { return err }

// TestSecurityGroupsSurviveRestart checks that groups, rules and
// attachments come back after SIGTERM and SIGKILL.
func TestSecurityGroupsSurviveRestart(t *testing.T) {
	dirs := daemon.NewDirs(t)
	d := daemon.Start(t, dirs)
	c := d.Client
	n := mustNetwork(t, c, dual("prod"))
	a := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "a"})
	mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "b"})
	mustGroup(t, c, "web")
	mustGroup(t, c, "empty")
	mustRule(t, c, &netpb.AddSecurityGroupRuleRequest{SecurityGroupId: "web", Direction: ingress, Protocol: tcp, PortStart: 80, PortEnd: 90, Cidr: "10.0.0.0/24"})
	removed := mustRule(t, c, &netpb.AddSecurityGroupRuleRequest{SecurityGroupId: "web", Direction: egress, Protocol: netpb.RuleProtocol_RULE_PROTOCOL_ALL})
	if _, err := c.RemoveSecurityGroupRule(ctx(t), &netpb.RemoveSecurityGroupRuleRequest{RuleId: removed.Id}); err != nil {
		t.Fatal(err)
	}
	for _, nic := range []string{"a", "b"} {
		if _, err := c.AttachSecurityGroup(ctx(t), &netpb.AttachSecurityGroupRequest{NicId: nic, SecurityGroupId: "web"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: a.Id}); err != nil {
		t.Fatal(err)
	}
	want, err := c.ListSecurityGroups(ctx(t), &netpb.ListSecurityGroupsRequest{})
	if err != nil || len(want.SecurityGroups) != 2 || want.SecurityGroups[1].NicCount != 1 || len(want.SecurityGroups[1].Rules) != 1 {
		t.Fatalf("before restart: %v %v", want, err)
	}
	for _, stop := range []struct {
		name string
		do   func(*daemon.Daemon) error
	}{
		{"SIGTERM", (*daemon.Daemon).Stop},
		{"SIGKILL", func(d *daemon.Daemon) error { d.Kill(); return nil }},
	} {
		if err := stop.do(d); err != nil {
			t.Fatalf("%s: %v", stop.name, err)
		}
		d = daemon.Start(t, dirs)
		got, err := d.Client.ListSecurityGroups(ctx(t), &netpb.ListSecurityGroupsRequest{})
		if err != nil || !proto.Equal(want, got) {
			t.Fatalf("after %s:\nwant %v\ngot  %v (%v)", stop.name, want, got, err)
		}
		// The restored attachment is live: detaching it changes something.
		dt, err := d.Client.DetachSecurityGroup(ctx(t), &netpb.DetachSecurityGroupRequest{NicId: "b", SecurityGroupId: "web"})
		if err != nil || !dt.Detached {
			t.Fatalf("after %s detach: %v %v", stop.name, dt, err)
		}
		if _, err := d.Client.AttachSecurityGroup(ctx(t), &netpb.AttachSecurityGroupRequest{NicId: "b", SecurityGroupId: "web"}); err != nil {
			t.Fatal(err)
		}
		got, _ = d.Client.ListSecurityGroups(ctx(t), &netpb.ListSecurityGroupsRequest{})
		want = got
	}
}
