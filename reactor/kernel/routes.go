package kernel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// RouteProtocol marks the daemon's routes (rtm_protocol; `ip route` shows
// it as "proto 210"). 210 is assigned to no routing daemon in iproute2's
// rt_protos.
const RouteProtocol = 210

// Routes lists the daemon's routes, of both families, in the main table.
func Routes() ([]netip.Prefix, error) {
	rs, err := ours()
	if err != nil {
		return nil, err
	}
	out := make([]netip.Prefix, 0, len(rs))
	for _, r := range rs {
		if p, ok := prefixOf(r.Dst); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

func ours() ([]netlink.Route, error) {
	var out []netlink.Route
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		rs, err := netlink.RouteListFiltered(fam, &netlink.Route{Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN},
			netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
		if err != nil {
			return nil, fmt.Errorf("list routes: %w", err)
		}
		out = append(out, rs...)
	}
	return out, nil
}

// SyncRoutes makes the daemon's routes exactly want, every one through
// the interface dev: it replaces each of want (so a stale route of a
// crashed daemon, through another interface index, is replaced) and
// deletes every other route of the daemon's protocol. dev "" removes
// them all. It reports what it added and removed.
func SyncRoutes(dev string, want []netip.Prefix) (added, removed []netip.Prefix, err error) {
	rs, err := ours()
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	var have []netip.Prefix
	for _, r := range rs {
		p, ok := prefixOf(r.Dst)
		if !ok {
			continue
		}
		have = append(have, p)
		if slices.Contains(want, p) && dev != "" {
			continue
		}
		if err := netlink.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("delete route %s: %w", p, err))
			continue
		}
		removed = append(removed, p)
	}
	if dev == "" {
		return nil, removed, errors.Join(errs...)
	}
	link, err := netlink.LinkByName(dev)
	if err != nil {
		return nil, removed, fmt.Errorf("find %s: %w", dev, err)
	}
	for _, p := range want {
		r := &netlink.Route{
			LinkIndex: link.Attrs().Index, Dst: ipNet(p), Protocol: RouteProtocol,
			Scope: netlink.SCOPE_LINK, Table: unix.RT_TABLE_MAIN,
		}
		if err := netlink.RouteReplace(r); err != nil {
			errs = append(errs, fmt.Errorf("route %s via %s: %w", p, dev, err))
			continue
		}
		if !slices.Contains(have, p) {
			added = append(added, p)
		}
	}
	return added, removed, errors.Join(errs...)
}

// Overlapping lists the host's routes in the main table that overlap p
// and are neither the daemon's nor a default route, as `ip route` would
// name them.
func Overlapping(p netip.Prefix) ([]string, error) {
	fam := netlink.FAMILY_V4
	if p.Addr().Is6() {
		fam = netlink.FAMILY_V6
	}
	rs, err := netlink.RouteListFiltered(fam, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	var out []string
	for _, r := range rs {
		q, ok := prefixOf(r.Dst)
		if !ok || r.Protocol == RouteProtocol || q.Bits() == 0 || !q.Overlaps(p) {
			continue
		}
		if q.Addr().IsLinkLocalUnicast() || q.Addr().IsMulticast() {
			continue
		}
		name := fmt.Sprint(r.LinkIndex)
		if l, err := netlink.LinkByIndex(r.LinkIndex); err == nil {
			name = l.Attrs().Name
		}
		out = append(out, fmt.Sprintf("%s dev %s proto %s", q, name, r.Protocol))
	}
	return out, nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	p = p.Masked()
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	bits, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), bits), true
}
