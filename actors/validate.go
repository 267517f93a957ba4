package actors

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/gaissmai/bart"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/persistence"
)

// GatewayMAC is the MAC address the gateway uses towards every VM.
var GatewayMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}

func invalid(format string, a ...any) error {
	return status.Errorf(codes.InvalidArgument, format, a...)
}

func validName(what, name string, required bool) (string, error) {
	if len(name) > maxNameLen {
		return "", invalid("%s name %q is %d bytes long; names are at most %d bytes", what, clip(name), len(name), maxNameLen)
	}
	if strings.TrimSpace(name) != name {
		return "", invalid("%s name %q has leading or trailing spaces", what, name)
	}
	if name == "" {
		if required {
			return "", invalid("%s name must not be blank", what)
		}
		return "", nil
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '/' {
			return "", invalid("%s name %q contains %q, which names may not contain", what, name, r)
		}
	}
	return name, nil
}

// parsePrefix parses a canonical CIDR of the wanted family; field names the
// request field for the error message. A CIDR with host bits set is
// refused, never silently masked.
func parsePrefix(field, s string, want4 bool) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, invalid("%s %q is not a valid CIDR", field, clip(s))
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, invalid("%s %q is in IPv4-mapped IPv6 space ::ffff:0:0/96", field, clip(s))
	}
	if p.Addr().Is4() != want4 {
		return netip.Prefix{}, invalid("%s %q is not an %s prefix", field, clip(s), family(want4))
	}
	if p.Masked() != p {
		return netip.Prefix{}, invalid("%s %q has host bits set: did you mean %s?", field, clip(s), p.Masked())
	}
	return p, nil
}

// parseAddr parses a single address of the wanted family.
func parseAddr(field, s string, want4 bool) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, invalid("%s %q is not a valid IP address", field, clip(s))
	}
	if a.Is4In6() {
		return netip.Addr{}, invalid("%s %q is an IPv4-mapped IPv6 address", field, clip(s))
	}
	if a.Is4() != want4 {
		return netip.Addr{}, invalid("%s %q is not an %s address", field, clip(s), family(want4))
	}
	return a, nil
}

func family(v4 bool) string {
	if v4 {
		return "IPv4"
	}
	return "IPv6"
}

// parseServers validates DNS or NTP server addresses (either family): at
// most maxServers, each a unicast address a VM can reach. Repeats are
// dropped.
func parseServers(field string, list []string) ([]netip.Addr, error) {
	if len(list) > maxServers {
		return nil, invalid("%s has %d entries; at most %d are allowed", field, len(list), maxServers)
	}
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, s := range list {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return nil, invalid("%s entry %q is not an IP address", field, clip(s))
		}
		if why := serverProblem(a); why != "" {
			return nil, invalid("%s entry %s %s", field, a, why)
		}
		if seen[a] {
			continue
		}
		seen[a] = true
		out = append(out, a)
	}
	return out, nil
}

// parseMAC validates a unicast 48-bit MAC other than the gateway's.
func parseMAC(s string) (net.HardwareAddr, error) {
	m, err := net.ParseMAC(s)
	if err != nil || len(m) != 6 {
		return nil, invalid("mac_address %q is not a 48-bit MAC address like 52:54:00:12:34:56", clip(s))
	}
	switch {
	case m[0]&1 == 1:
		return nil, invalid("mac_address %q is a multicast or broadcast address; a NIC needs a unicast MAC", s)
	case bytes.Equal(m, make([]byte, 6)):
		return nil, invalid("mac_address %q is all zeros", s)
	case bytes.Equal(m, GatewayMAC):
		return nil, invalid("mac_address %q is the gateway's own MAC", s)
	}
	return m, nil
}

// parseRoutes validates a NIC's routed prefixes of one family: canonical,
// outside special space, none overlapping another of the same request.
// The overlap check goes through an LPM table, so it costs n log n.
func parseRoutes(field string, list []string, want4 bool) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	var seen bart.Table[struct{}]
	for _, s := range list {
		p, err := parsePrefix(field, s, want4)
		if err != nil {
			return nil, err
		}
		if err := checkSpace(field, p); err != nil {
			return nil, err
		}
		if q, _, ok := overlapOf(&seen, p); ok {
			return nil, invalid("%s %s overlaps %s of the same request", field, p, q)
		}
		seen.Insert(p, struct{}{})
		out = append(out, p)
	}
	return out, nil
}

// overlapOf returns a prefix of t that overlaps p (one holding p, or one
// that p holds) with its value.
func overlapOf[V any](t *bart.Table[V], p netip.Prefix) (netip.Prefix, V, bool) {
	if q, v, ok := t.LookupPrefixLPM(p); ok {
		return q, v, true
	}
	for q, v := range t.Subnets(p) {
		return q, v, true
	}
	var zero V
	return netip.Prefix{}, zero, false
}

func describe(id, name string) string {
	if name != "" {
		return fmt.Sprintf("%q", name)
	}
	return id
}

// parseMTU validates a network's requested MTU; 0 stands for
// persistence.DefaultMTU. A network with IPv6 needs the IPv6 minimum.
func parseMTU(mtu uint32, ipv6 bool) (int, error) {
	if mtu == 0 {
		return persistence.DefaultMTU, nil
	}
	lo := persistence.MinMTUFor(ipv6)
	if mtu < uint32(lo) || mtu > persistence.MaxMTU {
		if ipv6 {
			return 0, invalid("mtu %d is outside %d-%d, the range for a network with IPv6 (IPv6 needs at least %d)",
				mtu, lo, persistence.MaxMTU, persistence.MinMTU)
		}
		return 0, invalid("mtu %d is outside %d-%d, the range for an IPv4-only network", mtu, lo, persistence.MaxMTU)
	}
	return int(mtu), nil
}
