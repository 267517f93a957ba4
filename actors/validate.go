package actors

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// GatewayMAC is the MAC address the gateway uses towards every VM.
var GatewayMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}

// maxNameLen bounds network and NIC names.
const maxNameLen = 63

func invalid(format string, a ...any) error {
	return status.Errorf(codes.InvalidArgument, format, a...)
}

func validName(what, name string, required bool) (string, error) {
	if strings.TrimSpace(name) != name {
		return "", invalid("%s name %q has leading or trailing spaces", what, name)
	}
	if name == "" {
		if required {
			return "", invalid("%s name must not be blank", what)
		}
		return "", nil
	}
	if len(name) > maxNameLen {
		return "", invalid("%s name %q is longer than %d characters", what, name, maxNameLen)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '/' {
			return "", invalid("%s name %q contains %q, which names may not contain", what, name, r)
		}
	}
	return name, nil
}

// parsePrefix parses a canonical CIDR of the wanted family; field names the
// request field for the error message.
func parsePrefix(field, s string, want4 bool) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, invalid("%s %q is not a valid CIDR", field, s)
	}
	if p.Addr().Is4() != want4 || p.Addr().Is4In6() {
		return netip.Prefix{}, invalid("%s %q is not an %s prefix", field, s, family(want4))
	}
	if p.Masked() != p {
		return netip.Prefix{}, invalid("%s %q has host bits set: did you mean %s?", field, s, p.Masked())
	}
	return p, nil
}

// parseAddr parses a single address of the wanted family.
func parseAddr(field, s string, want4 bool) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, invalid("%s %q is not a valid IP address", field, s)
	}
	if a.Is4() != want4 || a.Is4In6() {
		return netip.Addr{}, invalid("%s %q is not an %s address", field, s, family(want4))
	}
	return a, nil
}

func family(v4 bool) string {
	if v4 {
		return "IPv4"
	}
	return "IPv6"
}

// parseServers validates DNS or NTP server addresses (either family).
func parseServers(field string, list []string) ([]string, error) {
	out := make([]string, 0, len(list))
	seen := map[netip.Addr]bool{}
	for _, s := range list {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil || a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() {
			return nil, invalid("%s entry %q is not a unicast IP address", field, s)
		}
		if seen[a] {
			continue
		}
		seen[a] = true
		out = append(out, a.String())
	}
	return out, nil
}

// parseMAC validates a unicast 48-bit MAC other than the gateway's.
func parseMAC(s string) (net.HardwareAddr, error) {
	m, err := net.ParseMAC(s)
	if err != nil || len(m) != 6 {
		return nil, invalid("mac_address %q is not a 48-bit MAC address like 52:54:00:12:34:56", s)
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

// parseRoutes validates a NIC's routed prefixes of one family.
func parseRoutes(field string, list []string, want4 bool) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		p, err := parsePrefix(field, s, want4)
		if err != nil {
			return nil, err
		}
		for _, q := range out {
			if q.Overlaps(p) {
				return nil, invalid("%s %s overlaps %s of the same request", field, p, q)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func describe(id, name string) string {
	if name != "" {
		return fmt.Sprintf("%q", name)
	}
	return id
}
