package reactor

import (
	"fmt"
	"net/netip"
	"time"

	"mvirt-net/reactor/dhcp4"
	"mvirt-net/reactor/dhcp6"
	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/lease"
	"mvirt-net/reactor/ndp"
)

// DefaultRAInterval is how often a Router Advertisement is sent unasked.
const DefaultRAInterval = 200 * time.Second

// Services is what the gateway knows and tells about one NIC. The owner
// gives it at start and may replace it at any time with Reactor.Update; the
// reactor then answers with the new values from the next frame on.
type Services struct {
	// Gateway is the NIC as the gateway sees it: MAC, /32 and /128.
	Gateway gateway.Config
	// Routed4 and Routed6 are the prefixes routed to this NIC: it may send
	// from them.
	Routed4, Routed6 []netip.Prefix
	// DNS and NTP servers for DHCP and RAs.
	DNS, NTP []netip.Addr
	// MTU to advertise in DHCPv4 (option 26) and RAs; 0 leaves it out.
	MTU uint16
	// LeaseTime of DHCPv4 leases and DHCPv6 valid lifetimes; 0 uses the
	// servers' defaults.
	LeaseTime time.Duration
	// RAInterval between unsolicited RAs; 0 uses DefaultRAInterval.
	RAInterval time.Duration
}

// services is Services made ready for the hot path.
type services struct {
	Services
	dhcp4 *dhcp4.Server
	dhcp6 *dhcp6.Server
	ra    ndp.RAConfig
}

func newServices(s Services) (*services, error) {
	if err := s.Gateway.Validate(); err != nil {
		return nil, fmt.Errorf("gateway config: %w", err)
	}
	if s.RAInterval == 0 {
		s.RAInterval = DefaultRAInterval
	}
	out := &services{Services: s, ra: ndp.RAConfig{DNS: raDNS(s.DNS)}}
	if s.Gateway.IPv6.IsValid() {
		// Only RAs carry the MTU over IPv6; an IPv4-only network may have
		// one below the IPv6 minimum.
		out.ra.MTU = uint32(s.MTU)
	}
	var err error
	if s.Gateway.IPv4.IsValid() {
		out.dhcp4, err = dhcp4.New(dhcp4.Config{
			MAC: s.Gateway.MAC, Addr: s.Gateway.IPv4, DNS: s.DNS, NTP: s.NTP, LeaseTime: s.LeaseTime, MTU: s.MTU,
		})
		if err != nil {
			return nil, fmt.Errorf("dhcpv4 server: %w", err)
		}
	}
	if s.Gateway.IPv6.IsValid() {
		out.dhcp6, err = dhcp6.New(dhcp6.Config{
			MAC: s.Gateway.MAC, Addr: s.Gateway.IPv6, DNS: s.DNS, NTP: s.NTP, ValidLifetime: s.LeaseTime,
		})
		if err != nil {
			return nil, fmt.Errorf("dhcpv6 server: %w", err)
		}
	}
	if err := out.ra.Validate(); err != nil {
		return nil, fmt.Errorf("router advertisement config: %w", err)
	}
	return out, nil
}

// raDNS returns the IPv6 servers of dns that RAs advertise: the first
// ndp.MaxDNSServers of them (DHCPv6 hands out the whole list).
func raDNS(dns []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, a := range dns {
		if a.Is6() && !a.Is4In6() && len(out) < ndp.MaxDNSServers {
			out = append(out, a)
		}
	}
	return out
}

// mtu is the MTU of the NIC's network, the most a front-end may tell its
// driver (vhostuser.SessionConfig.MaxMTU). It runs on the reactor's
// thread.
func (r *Reactor) mtu() int {
	if r.svc.MTU == 0 {
		return DefaultMTU
	}
	return int(r.svc.MTU)
}

// mayUseIPv4 reports whether the NIC may send from a.
func (s *services) mayUseIPv4(a netip.Addr) bool {
	if a == s.Gateway.IPv4 {
		return true
	}
	for _, p := range s.Routed4 {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// mayUseIPv6 reports whether the NIC may send from a: its /128, any of its
// link-local addresses, its routed prefixes.
func (s *services) mayUseIPv6(a netip.Addr) bool {
	if a == s.Gateway.IPv6 || a.IsLinkLocalUnicast() {
		return true
	}
	for _, p := range s.Routed6 {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Lease reports a DHCP lease change, for the owner to persist.
type Lease struct {
	// IPv6 is set for DHCPv6, clear for DHCPv4.
	IPv6 bool
	// Kind is what happened: bound, renewed, released or declined.
	Kind     lease.Kind
	Addr     netip.Addr
	ClientID []byte
	Hostname string
}

func (Lease) isEvent() {}

// Update replaces the NIC's services. The returned channel is closed once
// the reactor answers with them (or has ended: see Done); invalid services
// are an error and change nothing.
func (r *Reactor) Update(s Services) (<-chan struct{}, error) {
	svc, err := newServices(s)
	if err != nil {
		return nil, err
	}
	applied := make(chan struct{})
	r.send(cmdServices{svc: svc, applied: applied})
	return applied, nil
}

type cmdServices struct {
	svc     *services
	applied chan struct{}
}

func (cmdServices) isCommand() {}
