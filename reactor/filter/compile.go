package filter

import (
	"net/netip"
	"slices"
	"strings"
)

// Compile builds the Matcher of the union of rules. With no rules at all it
// returns a Matcher that denies all ingress and allows all egress (a NIC
// with groups that hold no rules), not nil.
func Compile(rules []Rule) *Matcher {
	m := &Matcher{rules: len(rules)}
	var (
		tcp, udp    [numDirections][2][]Rule
		icmp, other [numDirections][2][]netip.Prefix
		cache       = map[string]*addrSet{}
		setOf       = func(ps []netip.Prefix) *addrSet { return buildSet(ps, cache) }
		allPorts    = Rule{PortStart: 0, PortEnd: 65535}
	)
	for _, r := range rules {
		if r.Direction == Egress {
			m.egress = true
		}
		for _, fam := range r.families() {
			d, p := r.Direction, r.prefix(fam)
			switch r.Protocol {
			case ProtoAll:
				all := allPorts
				all.CIDR = p
				tcp[d][fam] = append(tcp[d][fam], all)
				udp[d][fam] = append(udp[d][fam], all)
				icmp[d][fam] = append(icmp[d][fam], p)
				other[d][fam] = append(other[d][fam], p)
			case ProtoTCP:
				tcp[d][fam] = append(tcp[d][fam], Rule{PortStart: r.PortStart, PortEnd: r.PortEnd, CIDR: p})
			case ProtoUDP:
				udp[d][fam] = append(udp[d][fam], Rule{PortStart: r.PortStart, PortEnd: r.PortEnd, CIDR: p})
			case ProtoICMP, ProtoICMPv6:
				icmp[d][fam] = append(icmp[d][fam], p)
			}
		}
	}
	for d := range numDirections {
		for fam := range 2 {
			t := &m.dirs[d][fam]
			t.tcp = buildPorts(tcp[d][fam], setOf)
			t.udp = buildPorts(udp[d][fam], setOf)
			t.icmp = setOf(icmp[d][fam])
			t.other = setOf(other[d][fam])
		}
	}
	return m
}

// buildPorts cuts the port space at every rule's start and end+1 and gives
// each interval the set of the CIDRs of the rules that cover it.
func buildPorts(rules []Rule, setOf func([]netip.Prefix) *addrSet) ports {
	if len(rules) == 0 {
		return ports{}
	}
	bounds := []uint16{0}
	for _, r := range rules {
		bounds = append(bounds, r.PortStart)
		if r.PortEnd < 65535 {
			bounds = append(bounds, r.PortEnd+1)
		}
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	var whole []netip.Prefix
	for _, r := range rules {
		if r.PortStart == 0 && r.PortEnd == 65535 {
			whole = append(whole, r.CIDR)
		}
	}
	out := ports{bounds: bounds, sets: make([]*addrSet, len(bounds)), whole: setOf(whole)}
	for i, b := range bounds {
		var ps []netip.Prefix
		for _, r := range rules {
			if r.PortStart <= b && b <= r.PortEnd {
				ps = append(ps, r.CIDR)
			}
		}
		out.sets[i] = setOf(ps)
	}
	// Neighbouring intervals with the same set merge.
	j := 0
	for i := 1; i < len(out.bounds); i++ {
		if out.sets[i] != out.sets[j] {
			j++
			out.bounds[j], out.sets[j] = out.bounds[i], out.sets[i]
		}
	}
	out.bounds, out.sets = out.bounds[:j+1], out.sets[:j+1]
	return out
}

// buildSet returns the set of ps, nil for none; equal sets are shared.
func buildSet(ps []netip.Prefix, cache map[string]*addrSet) *addrSet {
	if len(ps) == 0 {
		return nil
	}
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b netip.Prefix) int { return strings.Compare(a.String(), b.String()) })
	ps = slices.Compact(ps)
	var key strings.Builder
	for _, p := range ps {
		key.WriteString(p.String())
		key.WriteByte(',')
	}
	if s, ok := cache[key.String()]; ok {
		return s
	}
	s := &addrSet{}
	for _, p := range ps {
		if p.Bits() == 0 {
			s.any = true
		}
		s.cidr.Insert(p)
	}
	cache[key.String()] = s
	return s
}
