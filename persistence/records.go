package persistence

import (
	"errors"
	"time"
)

// NetworkRecord is the stored form of a network.
type NetworkRecord struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	IPv4Subnet string    `json:"ipv4_subnet,omitempty"`
	IPv6Prefix string    `json:"ipv6_prefix,omitempty"`
	DNSServers []string  `json:"dns_servers,omitempty"`
	NTPServers []string  `json:"ntp_servers,omitempty"`
	Public     bool      `json:"public,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// NicRecord is the stored form of a vNIC.
type NicRecord struct {
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
	if n.IPv4Address != "" {
		out = append(out, n.IPv4Address)
	}
	if n.IPv6Address != "" {
		out = append(out, n.IPv6Address)
	}
	return out
}

func (n *NetworkRecord) storedID() string { return n.ID }

func (n *NetworkRecord) check() error {
	if n.ID == "" || n.Name == "" || (n.IPv4Subnet == "" && n.IPv6Prefix == "") {
		return errors.New("network record lacks id, name or subnet")
	}
	return nil
}

func (n *NicRecord) storedID() string { return n.ID }

func (n *NicRecord) check() error {
	if n.ID == "" || n.NetworkID == "" || n.MAC == "" || n.SocketPath == "" {
		return errors.New("nic record lacks id, network, mac or socket path")
	}
	return nil
}
