package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"mvirt-net/rpc/netpb"
)

// groupDetails writes one security group as a list of fields and its rules
// as a table.
func groupDetails(w io.Writer, g *netpb.SecurityGroup) {
	row(w, "ID:", g.GetId())
	row(w, "Name:", g.GetName())
	row(w, "Description:", orDash(g.GetDescription()))
	row(w, "vNICs:", strconv.Itoa(int(g.GetNicCount())))
	row(w, "Created:", orDash(g.GetCreatedAt()))
	row(w, "Updated:", orDash(g.GetUpdatedAt()))
	if len(g.GetRules()) == 0 {
		row(w, "Rules:", "-")
		return
	}
	row(w, "Rules:")
	ruleHeader(w)
	for _, r := range g.GetRules() {
		ruleRow(w, r)
	}
}

// groupTable writes security groups as a table, one per line.
func groupTable(w io.Writer, groups []*netpb.SecurityGroup) {
	row(w, "ID", "NAME", "RULES", "NICS", "DESCRIPTION")
	for _, g := range groups {
		row(w, g.GetId(), g.GetName(), strconv.Itoa(len(g.GetRules())), strconv.Itoa(int(g.GetNicCount())), orDash(g.GetDescription()))
	}
}

func ruleHeader(w io.Writer) {
	row(w, "RULE ID", "DIRECTION", "PROTOCOL", "PORTS", "CIDR", "DESCRIPTION")
}

func ruleRow(w io.Writer, r *netpb.SecurityGroupRule) {
	row(w, r.GetId(),
		strings.ToLower(strings.TrimPrefix(r.GetDirection().String(), "RULE_DIRECTION_")),
		strings.ToLower(strings.TrimPrefix(r.GetProtocol().String(), "RULE_PROTOCOL_")),
		portsLabel(r), orDash(r.GetCidr()), orDash(r.GetDescription()))
}

// portsLabel shows a rule's ports as --ports takes them, "any" for all.
func portsLabel(r *netpb.SecurityGroupRule) string {
	start, end := r.GetPortStart(), r.GetPortEnd()
	switch {
	case start == 0 && end == 0:
		return "any"
	case end == 0 || end == start:
		return strconv.Itoa(int(start))
	}
	return fmt.Sprintf("%d-%d", start, end)
}
