package reactor

import (
	"net/netip"

	"mvirt-net/reactor/conntrack"
	"mvirt-net/reactor/filter"
)

// Filter is where a NIC's owner publishes the matcher of its security
// groups (nil: no group, everything passes).
type Filter = filter.Published

// firewall is a reactor's stateful packet filter: the NIC's published
// matcher, loaded once per batch, and its connection table of size
// entries, made at the first batch that has a matcher (most NICs never
// have a security group, and a table is about 1 MiB). Only the reactor's
// thread uses it.
type firewall struct {
	pub   *Filter
	m     *filter.Matcher
	table *conntrack.Table
	size  int
	now   int64
	flow  conntrack.Flow
	// scratch holds the headers of a lent frame, whose head may stop
	// short of a quoted packet.
	scratch [scratchLen]byte
	// last remembers, per direction (0 ingress, 1 egress), the entry of
	// the last TCP or UDP packet, so that a burst of one connection
	// costs one table lookup.
	last [2]lastFlow
}

// lastFlow is the tracked connection a direction saw last: its frames'
// signature (conntrack.Signature), its entry and the entry's generation.
type lastFlow struct {
	e     *conntrack.Entry
	gen   uint32
	proto uint8
	n     int
	sig   [36]byte
}

// scratchLen covers Ethernet, IPv6, ICMPv6 and a quoted IPv6 header with
// the start of its transport header.
const scratchLen = 14 + 40 + 8 + 40 + 40

// begin loads the matcher and the time for a batch; it reports whether
// the NIC is filtered at all.
func (fw *firewall) begin() bool {
	if fw.pub == nil {
		return false
	}
	fw.m = fw.pub.Load()
	if fw.m == nil {
		return false
	}
	if fw.table == nil {
		fw.table = conntrack.New(fw.size)
	}
	fw.now = nanotime()
	return true
}

// egressAllowed filters a frame the guest sent to be routed, counting
// what it drops.
func (r *Reactor) egressAllowed(frame []byte) bool {
	fw := &r.fw
	if fw.m == nil {
		return true
	}
	if fw.hit(frame, true) {
		return true
	}
	conntrack.ParseFlow(frame, &fw.flow)
	return r.admit(frame, true)
}

// ingressAllowed filters a frame routed to this NIC: head, then the lent
// tail (nil for a frame copied whole).
func (r *Reactor) ingressAllowed(head, tail []byte) bool {
	fw := &r.fw
	if fw.m == nil {
		return true
	}
	if fw.hit(head, false) {
		return true
	}
	conntrack.ParseFlow(head, &fw.flow)
	// The head of a lent frame holds the transport header of what it
	// routes but may stop short of the packet an ICMP error quotes (or
	// of IPv6 extension headers): only then are headers copied together.
	if k := fw.flow.Kind; len(tail) > 0 && len(head) < scratchLen && (k == conntrack.KindNone || k == conntrack.KindOther) {
		n := copy(fw.scratch[:], head)
		n += copy(fw.scratch[n:], tail)
		conntrack.ParseFlow(fw.scratch[:n], &fw.flow)
	}
	return r.admit(head, false)
}

// admit decides on fw.flow: a packet of a tracked connection (or an ICMP
// error about one) passes and refreshes it; another starts a connection
// if a rule allows it and the table has room.
func (r *Reactor) admit(frame []byte, egress bool) bool {
	fw := &r.fw
	f := &fw.flow
	denied := DropSGIngressDenied
	dir := filter.Ingress
	if egress {
		denied, dir = DropSGEgressDenied, filter.Egress
	}
	if f.Kind == conntrack.KindNone {
		r.drop(denied)
		return false
	}
	k := f.Key(egress)
	e := fw.table.Lookup(&k, fw.now)
	if f.Kind == conntrack.KindICMPError {
		if e != nil {
			return true
		}
		// An error about nothing tracked is judged as ICMP.
		if fw.m.Allows(dir, f.Proto, 0, true, remote(f, egress)) {
			return true
		}
		r.drop(denied)
		return false
	}
	opening := f.Proto == 6 && f.TCPFlags&(conntrack.FlagSYN|conntrack.FlagACK) == conntrack.FlagSYN
	if e != nil && !(opening && e.State == conntrack.StateClosed) {
		e.Seen(egress, f.TCPFlags, fw.now)
		fw.remember(frame, egress, e)
		return true
	}
	if !fw.m.Allows(dir, f.Proto, f.DstPort, f.Kind != conntrack.KindOther, remote(f, egress)) {
		r.drop(denied)
		return false
	}
	if e == nil {
		e = fw.table.Insert(&k, egress, fw.now)
	} else {
		e.Reopen(egress)
	}
	if e == nil {
		r.drop(DropConntrackFull)
		return false
	}
	e.Seen(egress, f.TCPFlags, fw.now)
	fw.remember(frame, egress, e)
	return true
}

// hit passes a TCP or UDP packet of the connection this direction saw
// last, if that connection is still tracked under the same key: no parse,
// no lookup. A SYN that may reopen a closed connection goes the long way.
func (fw *firewall) hit(frame []byte, egress bool) bool {
	l := &fw.last[dirIndex(egress)]
	if l.e == nil {
		return false
	}
	sig, proto, flags, ok := conntrack.Signature(frame)
	if !ok || proto != l.proto || len(sig) != l.n || string(sig) != string(l.sig[:l.n]) ||
		l.e.Gen() != l.gen || l.e.ExpiresIn(fw.now) <= 0 ||
		(flags&(conntrack.FlagSYN|conntrack.FlagACK) == conntrack.FlagSYN && l.e.State == conntrack.StateClosed) {
		return false
	}
	l.e.Seen(egress, flags, fw.now)
	return true
}

// remember makes e, the connection of frame, the direction's last one if
// frame has a signature.
func (fw *firewall) remember(frame []byte, egress bool, e *conntrack.Entry) {
	sig, proto, _, ok := conntrack.Signature(frame)
	if !ok {
		return
	}
	l := &fw.last[dirIndex(egress)]
	l.e, l.gen, l.proto, l.n = e, e.Gen(), proto, copy(l.sig[:], sig)
}

func dirIndex(egress bool) int {
	if egress {
		return 1
	}
	return 0
}

func remote(f *conntrack.Flow, egress bool) netip.Addr {
	if egress {
		return f.Dst
	}
	return f.Src
}
