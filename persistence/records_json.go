package persistence

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// The JSON forms of the records: addresses, prefixes and MACs as text, an
// absent family as "". Decoding parses every value and names the field of
// the first that does not parse.

type networkJSON struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	IPv4Subnet string    `json:"ipv4_subnet,omitempty"`
	IPv6Prefix string    `json:"ipv6_prefix,omitempty"`
	DNSServers []string  `json:"dns_servers,omitempty"`
	NTPServers []string  `json:"ntp_servers,omitempty"`
	Public     bool      `json:"public,omitempty"`
	MTU        int       `json:"mtu,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

type nicJSON struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name,omitempty"`
	NetworkID          string    `json:"network_id"`
	MAC                string    `json:"mac"`
	IPv4Address        string    `json:"ipv4_address,omitempty"`
	IPv6Address        string    `json:"ipv6_address,omitempty"`
	RoutedIPv4Prefixes []string  `json:"routed_ipv4_prefixes,omitempty"`
	RoutedIPv6Prefixes []string  `json:"routed_ipv6_prefixes,omitempty"`
	SocketPath         string    `json:"socket_path"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	Lease              *Lease    `json:"lease,omitempty"`
}

// MarshalJSON encodes the network in its JSON form.
func (n NetworkRecord) MarshalJSON() ([]byte, error) {
	return json.Marshal(networkJSON{
		ID: n.ID, Name: n.Name,
		IPv4Subnet: PrefixText(n.IPv4Subnet), IPv6Prefix: PrefixText(n.IPv6Prefix),
		DNSServers: Texts(n.DNSServers), NTPServers: Texts(n.NTPServers),
		Public: n.Public, MTU: n.MTU, CreatedAt: n.CreatedAt, UpdatedAt: n.UpdatedAt,
	})
}

// UnmarshalJSON decodes and parses the network's JSON form; a network
// stored without an MTU (before networks had one) gets DefaultMTU.
func (n *NetworkRecord) UnmarshalJSON(b []byte) error {
	var w networkJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.MTU == 0 {
		w.MTU = DefaultMTU
	}
	var p parser
	rec := NetworkRecord{
		ID: w.ID, Name: w.Name,
		IPv4Subnet: p.prefix("ipv4_subnet", w.IPv4Subnet), IPv6Prefix: p.prefix("ipv6_prefix", w.IPv6Prefix),
		DNSServers: p.addrs("dns_servers", w.DNSServers), NTPServers: p.addrs("ntp_servers", w.NTPServers),
		Public: w.Public, MTU: w.MTU, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
	}
	if p.err != nil {
		return p.err
	}
	*n = rec
	return nil
}

// MarshalJSON encodes the NIC in its JSON form.
func (n NicRecord) MarshalJSON() ([]byte, error) {
	w := nicJSON{
		ID: n.ID, Name: n.Name, NetworkID: n.NetworkID, MAC: n.MAC.String(),
		IPv4Address: AddrText(n.IPv4Address), IPv6Address: AddrText(n.IPv6Address),
		RoutedIPv4Prefixes: Texts(n.RoutedIPv4Prefixes), RoutedIPv6Prefixes: Texts(n.RoutedIPv6Prefixes),
		SocketPath: n.SocketPath, CreatedAt: n.CreatedAt, UpdatedAt: n.UpdatedAt, Lease: n.Lease,
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes and parses the NIC's JSON form.
func (n *NicRecord) UnmarshalJSON(b []byte) error {
	var w nicJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	var p parser
	rec := NicRecord{
		ID: w.ID, Name: w.Name, NetworkID: w.NetworkID, MAC: p.mac("mac", w.MAC),
		IPv4Address: p.addr("ipv4_address", w.IPv4Address), IPv6Address: p.addr("ipv6_address", w.IPv6Address),
		RoutedIPv4Prefixes: p.prefixes("routed_ipv4_prefixes", w.RoutedIPv4Prefixes),
		RoutedIPv6Prefixes: p.prefixes("routed_ipv6_prefixes", w.RoutedIPv6Prefixes),
		SocketPath:         w.SocketPath, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt, Lease: w.Lease,
	}
	if p.err != nil {
		return p.err
	}
	*n = rec
	return nil
}

var errEmpty = errors.New("empty entry")

// parser parses stored text values, keeping the first error; "" parses as
// the zero value (a disabled family, no MAC).
type parser struct{ err error }

func (p *parser) fail(field, s string, err error) {
	if p.err == nil {
		p.err = fmt.Errorf("%s %q does not parse: %w", field, s, err)
	}
}

func (p *parser) prefix(field, s string) netip.Prefix {
	if s == "" {
		return netip.Prefix{}
	}
	v, err := netip.ParsePrefix(s)
	if err != nil {
		p.fail(field, s, err)
	}
	return v
}

func (p *parser) addr(field, s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	v, err := netip.ParseAddr(s)
	if err != nil {
		p.fail(field, s, err)
	}
	return v
}

func (p *parser) mac(field, s string) net.HardwareAddr {
	if s == "" {
		return nil
	}
	v, err := net.ParseMAC(s)
	if err != nil {
		p.fail(field, s, err)
	}
	return v
}

func (p *parser) prefixes(field string, list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if s == "" {
			p.fail(field, s, errEmpty)
		}
		out = append(out, p.prefix(field, s))
	}
	return out
}

func (p *parser) addrs(field string, list []string) []netip.Addr {
	var out []netip.Addr
	for _, s := range list {
		if s == "" {
			p.fail(field, s, errEmpty)
		}
		out = append(out, p.addr(field, s))
	}
	return out
}
