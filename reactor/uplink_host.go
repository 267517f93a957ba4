package reactor

import (
	"errors"
	"net/netip"

	"mvirt-net/reactor/kernel"
)

// NAT is the optional masquerading of public networks' traffic leaving
// the host (see kernel.NAT).
type NAT = kernel.NAT

// RouteProtocol marks the kernel routes the daemon owns.
const RouteProtocol = kernel.RouteProtocol

// HostSync is what SyncHost changed in the kernel.
type HostSync struct {
	// Added and Removed are kernel routes of the daemon's.
	Added, Removed []netip.Prefix
	// Overlaps names, per added prefix, the host's own routes that
	// overlap it (not the daemon's, not a default route).
	Overlaps map[netip.Prefix][]string
}

// SyncHost makes the kernel match the public networks: a route to the
// uplink for each of PublicPrefixes while the uplink is open (none of the
// daemon's otherwise), and the masquerading tables of nat for them (none
// without nat.Iface). It acts on the calling thread's network namespace.
func (d *Dataplane) SyncHost(nat NAT) (HostSync, error) {
	want := d.PublicPrefixes()
	dev := ""
	d.mu.Lock()
	if d.uplink != nil {
		dev = d.uplink.Name()
	}
	d.mu.Unlock()
	if dev == "" {
		want = nil
	}
	var out HostSync
	var errs []error
	var err error
	out.Added, out.Removed, err = kernel.SyncRoutes(dev, want)
	errs = append(errs, err)
	for _, p := range out.Added {
		host, err := kernel.Overlapping(p)
		errs = append(errs, err)
		if len(host) > 0 {
			if out.Overlaps == nil {
				out.Overlaps = map[netip.Prefix][]string{}
			}
			out.Overlaps[p] = host
		}
	}
	if nat.Iface == "" || dev == "" {
		nat = NAT{}
	}
	errs = append(errs, kernel.SyncNAT(nat, want))
	return out, errors.Join(errs...)
}

// ForwardingOff lists the host's forwarding sysctls that are off; the
// kernel forwards nothing between the uplink and the outside while they
// are.
func ForwardingOff() ([]string, error) { return kernel.ForwardingOff() }

// EnableForwarding turns the host's forwarding sysctls on.
func EnableForwarding() error { return kernel.EnableForwarding() }

// PublicNetworks counts the networks whose last table was public.
func (d *Dataplane) PublicNetworks() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, t := range d.tables {
		if t.public {
			n++
		}
	}
	return n
}

// Uplink returns the open uplink, or nil.
func (d *Dataplane) Uplink() *Uplink {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.uplink
}
