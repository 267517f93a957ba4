package dhcp6

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
)

// Lifetimes used when Config leaves them zero.
const (
	DefaultPreferredLifetime = time.Hour
	DefaultValidLifetime     = 2 * time.Hour
)

// Config describes the one client a Server serves.
type Config struct {
	// MAC is the NIC's MAC address; only frames from it are answered.
	MAC packet.MAC
	// Addr is the NIC's /128, handed out in IA_NA.
	Addr netip.Addr
	// DNS and NTP list servers; their IPv6 addresses are handed out (DNS in
	// option 23, NTP in option 56 and, to clients asking for it, 31).
	DNS []netip.Addr
	NTP []netip.Addr
	// DomainSearch is the domain search list (option 24), if any.
	DomainSearch []string
	// PreferredLifetime and ValidLifetime of the address; zero selects the
	// defaults. T1 and T2 are 0.5 and 0.8 times the preferred lifetime.
	PreferredLifetime time.Duration
	ValidLifetime     time.Duration
}

// Validate reports whether c can be served.
func (c *Config) Validate() error {
	gc := gateway.Config{MAC: c.MAC, IPv6: c.Addr}
	if err := gc.Validate(); err != nil {
		return fmt.Errorf("dhcp6 config: %w", err)
	}
	if !c.Addr.IsValid() {
		return errors.New("dhcp6 config: no IPv6 address to hand out")
	}
	pref, valid := c.lifetimes()
	if pref < time.Minute || valid < pref || valid > 0xffffffff*time.Second {
		return fmt.Errorf("dhcp6 config: preferred lifetime %v and valid lifetime %v out of range", pref, valid)
	}
	return nil
}

// lifetimes returns the preferred and valid lifetimes, defaults applied.
func (c *Config) lifetimes() (preferred, valid time.Duration) {
	preferred, valid = c.PreferredLifetime, c.ValidLifetime
	if preferred == 0 {
		preferred = DefaultPreferredLifetime
	}
	if valid == 0 {
		valid = max(DefaultValidLifetime, preferred)
	}
	return preferred, valid
}
