package dhcp4

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
)

// DefaultLeaseTime is the lease time offered when Config.LeaseTime is 0.
const DefaultLeaseTime = time.Hour

// minMTU is the smallest interface MTU option value allowed (RFC 2132 §5.1).
const minMTU = 68

// Config describes the one client a Server serves.
type Config struct {
	// MAC is the NIC's MAC address; only messages from it (Ethernet source
	// and chaddr) are answered.
	MAC packet.MAC
	// Addr is the NIC's /32.
	Addr netip.Addr
	// DNS and NTP list servers; their IPv4 addresses are handed out.
	DNS []netip.Addr
	NTP []netip.Addr
	// LeaseTime is the lease offered; 0 selects DefaultLeaseTime.
	LeaseTime time.Duration
	// MTU is the interface MTU option; 0 omits it.
	MTU uint16
	// Domain is the domain name option; "" omits it.
	Domain string
}

// Validate reports whether c can be served.
func (c *Config) Validate() error {
	gc := gateway.Config{MAC: c.MAC, IPv4: c.Addr}
	if err := gc.Validate(); err != nil {
		return fmt.Errorf("dhcp4 config: %w", err)
	}
	if !c.Addr.Is4() {
		return errors.New("dhcp4 config: no IPv4 address to hand out")
	}
	if c.LeaseTime < 0 || c.LeaseTime > 0xffffffff*time.Second || c.LeaseTime != 0 && c.LeaseTime < time.Minute {
		return fmt.Errorf("dhcp4 config: lease time %v out of range", c.LeaseTime)
	}
	if c.MTU != 0 && c.MTU < minMTU {
		return fmt.Errorf("dhcp4 config: MTU %d below %d", c.MTU, minMTU)
	}
	if len(c.Domain) > 255 {
		return errors.New("dhcp4 config: domain name longer than 255 bytes")
	}
	return nil
}
