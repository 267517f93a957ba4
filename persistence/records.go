package persistence

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// NetworkRecord is the stored form of a network. Its values are typed: a
// stored value that does not parse fails the record's decoding
// (records_json.go), never becomes a zero value.
type NetworkRecord struct {
	ID   string
	Name string
	// IPv4Subnet and IPv6Prefix are the zero Prefix when the family is
	// disabled.
	IPv4Subnet netip.Prefix
	IPv6Prefix netip.Prefix
	DNSServers []netip.Addr
	NTPServers []netip.Addr
	Public     bool
	// MTU is the network's IP MTU; a record stored without one loads
	// with DefaultMTU.
	MTU       int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NicRecord is the stored form of a vNIC, typed like NetworkRecord.
type NicRecord struct {
	ID        string
	Name      string
	NetworkID string
	MAC       net.HardwareAddr
	// IPv4Address and IPv6Address are the zero Addr when the family is
	// disabled.
	IPv4Address        netip.Addr
	IPv6Address        netip.Addr
	RoutedIPv4Prefixes []netip.Prefix
	RoutedIPv6Prefixes []netip.Prefix
	SocketPath         string
	CreatedAt          time.Time
	UpdatedAt          time.Time
	Lease              *Lease
}

// Lease is the last DHCP lease state a vNIC's guest reported.
type Lease struct {
	State     string    `json:"state"`
	ClientID  string    `json:"client_id,omitempty"`
	DUID      string    `json:"duid,omitempty"`
	Hostname  string    `json:"hostname,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// addresses returns the addresses a NIC holds in its network.
func (n *NicRecord) addresses() []string {
	var out []string
	for _, a := range []netip.Addr{n.IPv4Address, n.IPv6Address} {
		if a.IsValid() {
			out = append(out, a.String())
		}
	}
	return out
}

func (n *NetworkRecord) storedID() string { return n.ID }

func (n *NetworkRecord) check() error {
	if n.ID == "" || n.Name == "" || (!n.IPv4Subnet.IsValid() && !n.IPv6Prefix.IsValid()) {
		return errors.New("network record lacks id, name or subnet")
	}
	if err := checkPrefixes("ipv4_subnet", true, n.IPv4Subnet); err != nil {
		return err
	}
	if err := checkPrefixes("ipv6_prefix", false, n.IPv6Prefix); err != nil {
		return err
	}
	// An IPv4 subnet keeps its network and broadcast addresses, an IPv6
	// prefix its subnet-router anycast address, out of its address pool.
	if n.IPv4Subnet.IsValid() && n.IPv4Subnet.Bits() > 30 || n.IPv6Prefix.IsValid() && n.IPv6Prefix.Bits() > 127 {
		return errors.New("subnet holds no assignable address")
	}
	for _, a := range append(n.DNSServers, n.NTPServers...) {
		if a.Zone() != "" || a.IsUnspecified() {
			return fmt.Errorf("server %s is not a unicast address", a)
		}
	}
	return checkMTU(n.MTU, n.IPv6Prefix.IsValid())
}

func (n *NicRecord) storedID() string { return n.ID }

func (n *NicRecord) check() error {
	if n.ID == "" || n.NetworkID == "" || len(n.MAC) == 0 || n.SocketPath == "" {
		return errors.New("nic record lacks id, network, mac or socket path")
	}
	if len(n.MAC) != 6 || n.MAC[0]&1 == 1 {
		return fmt.Errorf("mac %s is not a unicast 48-bit MAC", n.MAC)
	}
	for _, a := range []struct {
		field string
		v4    bool
		addr  netip.Addr
	}{{"ipv4_address", true, n.IPv4Address}, {"ipv6_address", false, n.IPv6Address}} {
		if a.addr.IsValid() && (a.addr.Is4() != a.v4 || a.addr.Is4In6() || a.addr.Zone() != "") {
			return fmt.Errorf("%s %s is not an %s address", a.field, a.addr, family(a.v4))
		}
	}
	if err := checkPrefixes("routed_ipv4_prefixes", true, n.RoutedIPv4Prefixes...); err != nil {
		return err
	}
	return checkPrefixes("routed_ipv6_prefixes", false, n.RoutedIPv6Prefixes...)
}

// fits checks that the NIC's addresses lie in its network's subnets.
func (n *NicRecord) fits(net *NetworkRecord) error {
	for _, a := range []struct {
		field  string
		addr   netip.Addr
		subnet netip.Prefix
	}{{"ipv4_address", n.IPv4Address, net.IPv4Subnet}, {"ipv6_address", n.IPv6Address, net.IPv6Prefix}} {
		if a.addr.IsValid() && !a.subnet.Contains(a.addr) {
			return fmt.Errorf("%s %s lies outside the network's subnet %s", a.field, a.addr, PrefixText(a.subnet))
		}
	}
	return nil
}

// checkPrefixes checks that every valid prefix of ps is canonical and of
// the wanted family.
func checkPrefixes(field string, want4 bool, ps ...netip.Prefix) error {
	for _, p := range ps {
		if !p.IsValid() {
			continue
		}
		if p.Addr().Is4() != want4 || p.Addr().Is4In6() {
			return fmt.Errorf("%s %s is not an %s prefix", field, p, family(want4))
		}
		if p.Masked() != p {
			return fmt.Errorf("%s %s has host bits set", field, p)
		}
	}
	return nil
}

func family(v4 bool) string {
	if v4 {
		return "IPv4"
	}
	return "IPv6"
}
