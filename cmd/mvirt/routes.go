package main

import "net/netip"

// splitRoutes sorts CIDR prefixes into IPv4 and IPv6, in the order given.
// The daemon validates the prefixes; mvirt only needs to know the family.
func splitRoutes(routes []string) (v4, v6 []string, err error) {
	for _, r := range routes {
		p, err := netip.ParsePrefix(r)
		if err != nil {
			return nil, nil, usageErrorf("invalid --route %q: want a CIDR prefix such as 10.1.0.0/24 or fd00:1::/64", r)
		}
		if p.Addr().Is4() {
			v4 = append(v4, r)
		} else {
			v6 = append(v6, r)
		}
	}
	return v4, v6, nil
}
