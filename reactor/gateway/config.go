package gateway

import (
	"errors"
	"fmt"
	"net/netip"

	"mvirt-net/reactor/packet"
)

// Config is a NIC as its gateway sees it. The reactor holds it as an
// immutable value; a change of address comes as a new Config.
type Config struct {
	// MAC is the NIC's MAC address: the only source accepted from the VM
	// and the destination of every frame sent to it.
	MAC packet.MAC
	// IPv4 is the NIC's /32, or the zero Addr if it has none.
	IPv4 netip.Addr
	// IPv6 is the NIC's /128, or the zero Addr if it has none.
	IPv6 netip.Addr
}

// Validate reports whether c can be served.
func (c *Config) Validate() error {
	if c.MAC.IsZero() || c.MAC.IsMulticast() || c.MAC == MAC {
		return fmt.Errorf("gateway config: NIC MAC %v is not a usable unicast address", c.MAC)
	}
	if c.IPv4.IsValid() && (!c.IPv4.Is4() || !c.IPv4.IsGlobalUnicast()) {
		return fmt.Errorf("gateway config: NIC IPv4 %v is not a unicast IPv4 address", c.IPv4)
	}
	if c.IPv4 == IPv4 {
		return errors.New("gateway config: NIC IPv4 is the gateway's address")
	}
	if c.IPv6.IsValid() && (!c.IPv6.Is6() || c.IPv6.Is4In6() || !c.IPv6.IsGlobalUnicast() || c.IPv6.Zone() != "") {
		return fmt.Errorf("gateway config: NIC IPv6 %v is not a global unicast IPv6 address", c.IPv6)
	}
	return nil
}
