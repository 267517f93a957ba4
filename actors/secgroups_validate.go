package actors

import (
	"net/netip"

	"mvirt-net/persistence"
	"mvirt-net/reactor"
	"mvirt-net/rpc/netpb"
)

// Limits of security groups.
const (
	maxDescriptionLen = 255
	maxRulesPerGroup  = 1000
)

// validRule checks an AddSecurityGroupRule request's rule and returns it
// compiled and in its stored form (without id and times).
func validRule(req *netpb.AddSecurityGroupRuleRequest) (reactor.FilterRule, persistence.RuleRecord, error) {
	var fr reactor.FilterRule
	rec := persistence.RuleRecord{Description: req.GetDescription()}
	switch req.GetDirection() {
	case netpb.RuleDirection_RULE_DIRECTION_INGRESS:
		fr.Direction = reactor.FilterIngress
	case netpb.RuleDirection_RULE_DIRECTION_EGRESS:
		fr.Direction = reactor.FilterEgress
	default:
		return fr, rec, invalid("direction must be RULE_DIRECTION_INGRESS or RULE_DIRECTION_EGRESS, not %v", req.GetDirection())
	}
	proto, ok := ruleProtocols[req.GetProtocol()]
	if !ok {
		return fr, rec, invalid("protocol must be one of ALL, TCP, UDP, ICMP, ICMPV6, not %v", req.GetProtocol())
	}
	fr.Protocol = proto
	start, end := req.GetPortStart(), req.GetPortEnd()
	switch {
	case start > 65535 || end > 65535:
		return fr, rec, invalid("ports %d-%d: ports go up to 65535", start, end)
	case (start != 0 || end != 0) && proto != reactor.FilterTCP && proto != reactor.FilterUDP:
		return fr, rec, invalid("ports are only for TCP and UDP rules, not %v", req.GetProtocol())
	case end != 0 && start > end:
		return fr, rec, invalid("port_start %d is above port_end %d", start, end)
	}
	rec.PortStart, rec.PortEnd = uint16(start), uint16(end)
	fr.PortStart, fr.PortEnd = portRange(rec.PortStart, rec.PortEnd)
	if c := req.GetCidr(); c != "" {
		p, err := netip.ParsePrefix(c)
		if err != nil || p.Addr().Zone() != "" || p.Addr().Is4In6() {
			return fr, rec, invalid("cidr %q is not a valid IPv4 or IPv6 CIDR", c)
		}
		if p.Masked() != p || p.String() != c {
			return fr, rec, invalid("cidr %q is not canonical: did you mean %s?", c, p.Masked())
		}
		if proto == reactor.FilterICMP && !p.Addr().Is4() {
			return fr, rec, invalid("cidr %s is IPv6 but protocol ICMP is IPv4 only; use ICMPV6", c)
		}
		if proto == reactor.FilterICMPv6 && p.Addr().Is4() {
			return fr, rec, invalid("cidr %s is IPv4 but protocol ICMPV6 is IPv6 only; use ICMP", c)
		}
		fr.CIDR, rec.CIDR = p, c
	}
	if len(rec.Description) > maxDescriptionLen {
		return fr, rec, invalid("description is longer than %d bytes", maxDescriptionLen)
	}
	rec.Direction, rec.Protocol = req.GetDirection().String(), req.GetProtocol().String()
	return fr, rec, nil
}

var ruleProtocols = map[netpb.RuleProtocol]reactor.FilterProtocol{
	netpb.RuleProtocol_RULE_PROTOCOL_ALL:    reactor.FilterAll,
	netpb.RuleProtocol_RULE_PROTOCOL_TCP:    reactor.FilterTCP,
	netpb.RuleProtocol_RULE_PROTOCOL_UDP:    reactor.FilterUDP,
	netpb.RuleProtocol_RULE_PROTOCOL_ICMP:   reactor.FilterICMP,
	netpb.RuleProtocol_RULE_PROTOCOL_ICMPV6: reactor.FilterICMPv6,
}

// portRange turns the API's ports (0/0 any, end 0 just start) into an
// inclusive range.
func portRange(start, end uint16) (uint16, uint16) {
	switch {
	case start == 0 && end == 0:
		return 0, 65535
	case end == 0:
		return start, start
	}
	return start, end
}

// compiledRule turns a stored rule back into a filter rule; a stored rule
// was validated when it was added.
func compiledRule(r persistence.RuleRecord) reactor.FilterRule {
	fr := reactor.FilterRule{Protocol: ruleProtocols[netpb.RuleProtocol(netpb.RuleProtocol_value[r.Protocol])]}
	if r.Direction == netpb.RuleDirection_RULE_DIRECTION_EGRESS.String() {
		fr.Direction = reactor.FilterEgress
	}
	fr.PortStart, fr.PortEnd = portRange(r.PortStart, r.PortEnd)
	if r.CIDR != "" {
		fr.CIDR, _ = netip.ParsePrefix(r.CIDR)
	}
	return fr
}

// sameRule reports whether two stored rules allow the same traffic.
func sameRule(a, b persistence.RuleRecord) bool {
	return a.Direction == b.Direction && a.Protocol == b.Protocol && a.PortStart == b.PortStart &&
		a.PortEnd == b.PortEnd && a.CIDR == b.CIDR
}

func ruleView(groupID string, r persistence.RuleRecord) *netpb.SecurityGroupRule {
	return &netpb.SecurityGroupRule{
		Id: r.ID, SecurityGroupId: groupID,
		Direction:   netpb.RuleDirection(netpb.RuleDirection_value[r.Direction]),
		Protocol:    netpb.RuleProtocol(netpb.RuleProtocol_value[r.Protocol]),
		PortStart:   uint32(r.PortStart),
		PortEnd:     uint32(r.PortEnd),
		Cidr:        r.CIDR,
		Description: r.Description,
		CreatedAt:   stamp(r.CreatedAt),
		UpdatedAt:   stamp(r.UpdatedAt),
	}
}

func groupView(g *persistence.SecurityGroupRecord, nicCount int) *netpb.SecurityGroup {
	v := &netpb.SecurityGroup{
		Id: g.ID, Name: g.Name, Description: g.Description, NicCount: uint32(nicCount),
		CreatedAt: stamp(g.CreatedAt), UpdatedAt: stamp(g.UpdatedAt),
	}
	for _, r := range g.Rules {
		v.Rules = append(v.Rules, ruleView(g.ID, r))
	}
	return v
}
