package reactor

import (
	"mvirt-net/reactor/dhcp4"
	"mvirt-net/reactor/dhcp6"
	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/lease"
	"mvirt-net/reactor/ndp"
)

// answer handles one parsed TX frame the gateway itself deals with, or
// hands it to routing: the anti-spoofing checks first, then the
// classification of package gateway. It reports false when routing holds
// the frame back (see route).
func (r *Reactor) answer(frame []byte) bool {
	p, svc := &r.parsed, r.svc
	if p.SrcMAC != svc.Gateway.MAC {
		r.drop(DropSpoofedMAC)
		return true
	}
	class := gateway.Classify(p, &svc.Gateway)
	if !r.sourceAllowed(class) {
		return true
	}
	if class != gateway.ClassRoute {
		frame = r.whole(frame)
	}
	n := 0
	switch class {
	case gateway.ClassARP:
		n = gateway.ARPReply(r.out, frame, p, &svc.Gateway)
	case gateway.ClassEcho:
		n = gateway.EchoReply(r.out, frame, p, &svc.Gateway)
	case gateway.ClassNeighborSolicit:
		n = ndp.NeighborAdvert(r.out, frame, p, &svc.Gateway)
	case gateway.ClassRouterSolicit:
		if !svc.Gateway.IPv6.IsValid() {
			r.drop(DropToGateway)
			return true
		}
		n = ndp.RouterAdvertReply(r.out, frame, p, &svc.Gateway, &svc.ra)
	case gateway.ClassDHCPv4:
		n = r.dhcp(frame, false)
	case gateway.ClassDHCPv6:
		n = r.dhcp(frame, true)
	case gateway.ClassRoute:
		return r.route(frame)
	case gateway.ClassIgnore:
		return true
	case gateway.ClassLocal:
		r.drop(DropToGateway)
		return true
	default:
		r.drop(DropMalformed)
		return true
	}
	if n > 0 {
		r.deliver(r.out[:n])
	}
	return true
}

// sourceAllowed applies anti-spoofing to the frame's source address and
// counts what it drops.
func (r *Reactor) sourceAllowed(class gateway.Class) bool {
	p, svc := &r.parsed, r.svc
	switch {
	case p.EtherType == 0x0806:
		if p.Src.IsUnspecified() || svc.mayUseIPv4(p.Src) {
			return true
		}
		r.drop(DropSpoofedIPv4)
	case p.IPVersion == 4:
		if svc.mayUseIPv4(p.Src) || (p.Src.IsUnspecified() && class == gateway.ClassDHCPv4) {
			return true
		}
		r.drop(DropSpoofedIPv4)
	case p.IPVersion == 6:
		// :: is the source of DAD probes, and of router solicitations and
		// MLD reports before an address is assigned (RFC 4861, RFC 3590):
		// of nothing that is answered or forwarded.
		if svc.mayUseIPv6(p.Src) || (p.Src.IsUnspecified() && p.IPProto == 58 &&
			(class == gateway.ClassNeighborSolicit || class == gateway.ClassRouterSolicit || class == gateway.ClassIgnore)) {
			return true
		}
		r.drop(DropSpoofedIPv6)
	default:
		return true
	}
	return false
}

// dhcp answers a DHCPv4 or DHCPv6 client message and reports the lease
// change, if any, to the owner.
func (r *Reactor) dhcp(frame []byte, v6 bool) int {
	var (
		n   int
		l   = Lease{IPv6: v6}
		err error
	)
	switch {
	case !v6 && r.svc.dhcp4 != nil:
		var ev dhcp4.Event
		n, ev, err = r.svc.dhcp4.Handle(r.out, frame)
		l.Kind, l.Addr, l.ClientID, l.Hostname = ev.Kind, ev.Addr, ev.ClientID, ev.Hostname
	case v6 && r.svc.dhcp6 != nil:
		var ev dhcp6.Event
		n, ev, err = r.svc.dhcp6.Handle(r.out, frame)
		l.Kind, l.Addr, l.ClientID, l.Hostname = ev.Kind, ev.Addr, ev.ClientID, ev.Hostname
	default:
		r.drop(DropToGateway)
		return 0
	}
	if err != nil {
		r.drop(DropServiceError)
		r.cfg.Log.Debug("dhcp message not answered", "nic", r.cfg.NicID, "ipv6", v6, "err", err)
		return 0
	}
	if l.Kind != lease.None {
		r.cfg.Events(l)
	}
	return n
}

// advertise sends an unsolicited Router Advertisement if the NIC has IPv6
// and its RX ring runs.
func (r *Reactor) advertise() {
	if !r.svc.Gateway.IPv6.IsValid() || !r.queues[rxQueue].running {
		return
	}
	if n := ndp.PeriodicRouterAdvert(r.out, &r.svc.ra); n > 0 {
		r.deliver(r.out[:n])
		r.flushRx()
	}
}
