package actors

import "net/netip"

// special is address space a network subnet or a routed prefix must not
// touch, and why.
type special struct {
	prefix netip.Prefix
	why    string
}

// specialSpace is every range a subnet or routed prefix may not overlap:
// the gateway lives in link-local space (169.254.0.1, fe80::1), and the
// rest is never a unicast address of a VM.
var specialSpace = []special{
	{netip.MustParsePrefix("0.0.0.0/8"), "the unspecified (\"this network\") range 0.0.0.0/8"},
	{netip.MustParsePrefix("127.0.0.0/8"), "the loopback range 127.0.0.0/8"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local space 169.254.0.0/16, where the gateway lives (169.254.0.1)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast space 224.0.0.0/4"},
	{netip.MustParsePrefix("255.255.255.255/32"), "the limited broadcast address 255.255.255.255"},
	{netip.MustParsePrefix("::/128"), "the unspecified address ::"},
	{netip.MustParsePrefix("::1/128"), "the loopback address ::1"},
	{netip.MustParsePrefix("::ffff:0:0/96"), "IPv4-mapped space ::ffff:0:0/96"},
	{netip.MustParsePrefix("fe80::/10"), "link-local space fe80::/10, where the gateway lives (fe80::1)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast space ff00::/8"},
}

// checkSpace refuses a subnet or routed prefix that is a /0 or overlaps
// special space.
func checkSpace(field string, p netip.Prefix) error {
	if p.Bits() == 0 {
		return invalid("%s %s covers the whole address space; give a smaller prefix", field, p)
	}
	for _, s := range specialSpace {
		if p.Overlaps(s.prefix) {
			return invalid("%s %s overlaps %s", field, p, s.why)
		}
	}
	return nil
}

// limitedBroadcast is 255.255.255.255.
var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// serverProblem says why a VM cannot use a as its DNS or NTP server, or
// returns "" if it can.
func serverProblem(a netip.Addr) string {
	switch {
	case a.Zone() != "":
		return "has a zone"
	case a.Is4In6():
		return "is IPv4-mapped IPv6; give the IPv4 address"
	case a.IsUnspecified():
		return "is the unspecified address"
	case a.IsLoopback():
		return "is a loopback address"
	case a.IsMulticast():
		return "is a multicast address"
	case a == limitedBroadcast:
		return "is the limited broadcast address"
	}
	return ""
}
