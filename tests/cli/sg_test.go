package cli_test

import (
	"strings"
	"testing"

	"mvirt-net/rpc/netpb"
)

// TestSecurityGroupCommands drives security groups through the CLI: create,
// rules, attach and detach, table and JSON output, delete with and without
// --force, and the errors of each.
func TestSecurityGroupCommands(t *testing.T) {
	var g netpb.SecurityGroup
	mvirtJSON(t, &g, "sg", "create", "--name", "cli-web", "--description", "web servers")
	if g.GetId() == "" || g.GetName() != "cli-web" || g.GetDescription() != "web servers" {
		t.Fatalf("created group: %v", &g)
	}
	var http, rng netpb.SecurityGroupRule
	mvirtJSON(t, &http, "sg", "rule", "add", "cli-web", "--direction", "ingress", "--protocol", "tcp", "--ports", "80")
	if http.GetPortStart() != 80 || http.GetPortEnd() != 0 || http.GetDirection() != netpb.RuleDirection_RULE_DIRECTION_INGRESS ||
		http.GetProtocol() != netpb.RuleProtocol_RULE_PROTOCOL_TCP || http.GetSecurityGroupId() != g.GetId() {
		t.Fatalf("rule: %v", &http)
	}
	mvirtJSON(t, &rng, "sg", "rule", "add", g.GetId(), "--direction", "egress", "--protocol", "udp",
		"--ports", "8000-8100", "--cidr", "198.51.100.0/24", "--description", "metrics")
	if rng.GetPortStart() != 8000 || rng.GetPortEnd() != 8100 || rng.GetCidr() != "198.51.100.0/24" {
		t.Fatalf("range rule: %v", &rng)
	}
	out := mvirt(t, "sg", "rule", "add", "cli-web", "--direction", "ingress", "--protocol", "icmp")
	wantContains(t, out, "RULE ID", "ingress", "icmp", "any")

	details := mvirt(t, "sg", "get", "cli-web")
	wantContains(t, details, g.GetId(), "web servers", "vNICs:", "0")
	row := tableRow(t, details[strings.Index(details, "RULE ID"):], rng.GetId())
	if row["DIRECTION"] != "egress" || row["PROTOCOL"] != "udp" || row["PORTS"] != "8000-8100" || row["CIDR"] != "198.51.100.0/24" || row["DESCRIPTION"] != "metrics" {
		t.Fatalf("rule row: %v\n%s", row, details)
	}

	mvirt(t, "network", "create", "--name", "cli-sg-net", "--ipv4-subnet", "10.40.0.0/24")
	var nic netpb.Nic
	mvirtJSON(t, &nic, "nic", "create", "--network", "cli-sg-net", "--name", "cli-sg-eth0")
	var at netpb.AttachSecurityGroupResponse
	mvirtJSON(t, &at, "nic", "sg", "attach", "cli-sg-eth0", "cli-web")
	if !at.GetAttached() {
		t.Fatal("attach did not attach")
	}
	wantContains(t, mvirt(t, "nic", "sg", "attach", nic.GetId(), g.GetId()), "nothing changed")
	list := mvirt(t, "sg", "list")
	if r := tableRow(t, list, g.GetId()); r["NAME"] != "cli-web" || r["RULES"] != "3" || r["NICS"] != "1" {
		t.Fatalf("list row: %v\n%s", r, list)
	}
	var all netpb.ListSecurityGroupsResponse
	mvirtJSON(t, &all, "sg", "list")
	found := false
	for _, x := range all.GetSecurityGroups() {
		found = found || (x.GetId() == g.GetId() && x.GetNicCount() == 1 && len(x.GetRules()) == 3)
	}
	if !found {
		t.Fatalf("sg list -o json: %v", &all)
	}

	wantContains(t, mvirtFails(t, exitFailure, "sg", "delete", "cli-web"), "attached", "force")
	wantContains(t, mvirt(t, "nic", "sg", "detach", "cli-sg-eth0", "cli-web"), "Detached")
	wantContains(t, mvirt(t, "nic", "sg", "detach", "cli-sg-eth0", "cli-web"), "nothing changed")
	wantContains(t, mvirt(t, "sg", "rule", "remove", http.GetId()), "Removed", http.GetId())
	mvirt(t, "nic", "sg", "attach", "cli-sg-eth0", "cli-web")
	var del netpb.DeleteSecurityGroupResponse
	mvirtJSON(t, &del, "sg", "delete", "cli-web", "--force")
	if !del.GetDeleted() || del.GetNicsDetached() != 1 {
		t.Fatalf("forced delete: %v", &del)
	}
	mvirt(t, "network", "delete", "cli-sg-net", "--force")
}

func TestSecurityGroupErrors(t *testing.T) {
	mvirt(t, "sg", "create", "--name", "cli-sg-errors")
	for _, tc := range []struct {
		name string
		code int
		args []string
		want []string
	}{
		{"duplicate name", exitFailure, []string{"sg", "create", "--name", "cli-sg-errors"}, []string{"already exists"}},
		{"unknown group", exitFailure, []string{"sg", "get", "cli-no-such-group"}, []string{"not found"}},
		{"rule on unknown group", exitFailure, []string{"sg", "rule", "add", "cli-no-such-group", "--direction", "ingress", "--protocol", "tcp"}, []string{"not found"}},
		{"ports on icmp", exitFailure, []string{"sg", "rule", "add", "cli-sg-errors", "--direction", "ingress", "--protocol", "icmp", "--ports", "80"}, []string{"only for TCP and UDP"}},
		{"non-canonical cidr", exitFailure, []string{"sg", "rule", "add", "cli-sg-errors", "--direction", "ingress", "--protocol", "tcp", "--cidr", "10.0.0.1/24"}, []string{"10.0.0.0/24"}},
		{"unknown rule", exitFailure, []string{"sg", "rule", "remove", "00000000-0000-4000-8000-000000000009"}, []string{"not found"}},
		{"attach to unknown nic", exitFailure, []string{"nic", "sg", "attach", "cli-no-such-nic", "cli-sg-errors"}, []string{"not found"}},
		{"bad direction", exitUsage, []string{"sg", "rule", "add", "cli-sg-errors", "--direction", "inward", "--protocol", "tcp"}, []string{"--direction"}},
		{"bad protocol", exitUsage, []string{"sg", "rule", "add", "cli-sg-errors", "--direction", "ingress", "--protocol", "sctp"}, []string{"--protocol"}},
		{"bad ports", exitUsage, []string{"sg", "rule", "add", "cli-sg-errors", "--direction", "ingress", "--protocol", "tcp", "--ports", "90-80"}, []string{"--ports"}},
		{"port out of range", exitUsage, []string{"sg", "rule", "add", "cli-sg-errors", "--direction", "ingress", "--protocol", "tcp", "--ports", "70000"}, []string{"--ports"}},
		{"missing direction", exitUsage, []string{"sg", "rule", "add", "cli-sg-errors", "--protocol", "tcp"}, []string{"direction"}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantContains(t, mvirtFails(t, tc.code, tc.args...), tc.want...) })
	}
	if out := mvirt(t, "sg", "get", "cli-sg-errors"); !strings.Contains(out, "Rules:") || strings.Contains(out, "RULE ID") {
		t.Fatalf("failed commands changed the group:\n%s", out)
	}
}
