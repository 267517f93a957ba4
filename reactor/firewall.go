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
	// last remembers, per direction (lastIngress, lastEgress), the
	// connection of the last TCP or UDP packet, so that a burst of one
	// connection costs one table lookup.
	last [2]conntrack.Recent
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

// Indices of firewall.last.
const (
	lastIngress = 0
	lastEgress  = 1
)

// egressAllowed filters a frame the guest sent to be routed, counting
// what it drops. A frame of the connection egress saw last passes at
// once; the others take egressJudged.
func (r *Reactor) egressAllowed(frame []byte) bool {
	fw := &r.fw
	return fw.m == nil || fw.last[lastEgress].Pass(frame, true, fw.now) || r.egressJudged(frame)
}

// egressJudged is egressAllowed for a frame of another connection.
func (r *Reactor) egressJudged(frame []byte) bool {
	conntrack.ParseFlow(frame, &r.fw.flow)
	return r.admit(frame, true)
}

// ingressAllowed filters a frame routed to this NIC: head, then the lent
// tail in pieces (nil for a frame copied whole). A frame of the
// connection ingress saw last passes here; the others take
// ingressJudged.
func (r *Reactor) ingressAllowed(head []byte, tail [][]byte) bool {
	fw := &r.fw
	return fw.m == nil || fw.last[lastIngress].Pass(head, false, fw.now) || r.ingressJudged(head, tail)
}

// ingressJudged is ingressAllowed for a frame of another connection.
func (r *Reactor) ingressJudged(head []byte, tail [][]byte) bool {
	fw := &r.fw
	conntrack.ParseFlow(head, &fw.flow)
	// The head of a lent frame holds the transport header of what it
	// routes but may stop short of the packet an ICMP error quotes (or
	// of IPv6 extension headers): only then are headers copied together.
	if k := fw.flow.Kind; len(tail) > 0 && len(head) < scratchLen && (k == conntrack.KindNone || k == conntrack.KindOther) {
		n := copy(fw.scratch[:], head)
		for _, p := range tail {
			n += copy(fw.scratch[n:], p)
		}
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

// remember makes e, the connection of frame, the direction's last one.
func (fw *firewall) remember(frame []byte, egress bool, e *conntrack.Entry) {
	if egress {
		fw.last[lastEgress].Remember(frame, e)
	} else {
		fw.last[lastIngress].Remember(frame, e)
	}
}

func remote(f *conntrack.Flow, egress bool) netip.Addr {
	if egress {
		return f.Dst
	}
	return f.Src
}
