package reactor

import (
	"net/netip"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/route"
	"mvirt-net/reactor/tun"
)

// fromKernel routes one packet the kernel sent to the uplink, read into
// buf (read buffer idx) behind tunRoom bytes of room and its
// virtio_net_hdr (n bytes with the header), to the port holding its
// destination. The Ethernet header its destination needs is written over
// the room and the header, so the frame is copied once, into the
// destination's inbox, or its headers only when the buffer is lent (see
// forwardLarge). Errors go back to the kernel as ICMP, as a router sends
// them.
func (r *UplinkReactor) fromKernel(buf []byte, n, idx int) {
	if n <= tun.HdrLen {
		r.drop(DropMalformed)
		return
	}
	h := tun.ParseHeader(buf[tunRoom:])
	frame := buf[:tunRoom+n]
	var et uint16
	switch frame[packet.EthernetHeaderLen] >> 4 {
	case 4:
		et = packet.EtherTypeIPv4
	case 6:
		et = packet.EtherTypeIPv6
	default:
		r.drop(DropMalformed)
		return
	}
	packet.Ethernet(frame).Encode(gateway.MAC, uplinkMAC, et)
	p := &r.parsed
	packet.Parse(frame, p)
	if p.Reason != packet.ReasonNone {
		r.drop(DropMalformed)
		return
	}
	if !r.checkKernelOffload(h, frame) {
		return
	}
	r.batch.txPackets++
	r.batch.txBytes += uint64(p.End - packet.EthernetHeaderLen)
	d, ok := r.lookup(r.up.routes.Load(), p.Dst)
	switch {
	case !ok:
		r.drop(DropNotPublic)
	case d.Inbox == nil:
		r.drop(DropUnrouted)
		r.icmpError(frame, icmpUnreachable, d)
	case p.TTL <= 1:
		r.icmpError(frame, icmpTimeExceeded, nil)
	case r.packetSize() > d.MTU:
		r.drop(DropTooBig)
		r.tooBig(frame, d.MTU)
	case p.End > d.Inbox.MaxFrame() && r.hdr != (inbox.Header{}):
		r.forwardLarge(frame, d, et, idx)
	default:
		r.forward(frame, d, et)
	}
}

// forward copies the frame into d's inbox with d's MAC, the TTL
// decremented and its offload header, if any. The uplink never waits for
// room: the kernel's queue in front of it is the backpressure.
func (r *UplinkReactor) forward(frame []byte, d *Dest, et uint16) {
	p := &r.parsed
	slot, ok := d.Inbox.Reserve(p.End)
	if !ok {
		r.drop(DropInboxFull)
		return
	}
	b := slot.Bytes()
	copy(b, frame[:p.End])
	packet.Ethernet(b).Encode(d.MAC, gateway.MAC, et)
	packet.DecTTL(b, p)
	slot.SetHeader(r.hdr)
	slot.Commit()
	r.touch(d.Inbox)
}

// touch remembers an inbox to flush at the end of the pass.
func (r *UplinkReactor) touch(q *inbox.Inbox) {
	for _, t := range r.touched[:r.nTouched] {
		if t == q {
			return
		}
	}
	if r.nTouched == maxTouched {
		q.Flush()
		return
	}
	r.touched[r.nTouched] = q
	r.nTouched++
}

// flushRouted wakes every port this pass sent to.
func (r *UplinkReactor) flushRouted() {
	for i, q := range r.touched[:r.nTouched] {
		q.Flush()
		r.touched[i] = nil
	}
	r.nTouched = 0
}

// lookup is Reactor.lookup for the uplink's table.
func (r *UplinkReactor) lookup(tbl *route.Table[*Dest], dst netip.Addr) (*Dest, bool) {
	if tbl == r.last.tbl && dst == r.last.dst {
		return r.last.dest, true
	}
	d, ok := tbl.Lookup(dst)
	if ok {
		r.last.tbl, r.last.dst, r.last.dest = tbl, dst, d
	}
	return d, ok
}

// icmpSource is the source of an ICMP error about the packet parsed: its
// destination network's address (see Dest), taken from net if given, else
// looked up. The zero Addr: the network has none of that family.
func (r *UplinkReactor) icmpSource(net *Dest) netip.Addr {
	p := &r.parsed
	if net == nil {
		var ok bool
		if net, ok = r.up.nets.Load().Lookup(p.Dst); !ok {
			return netip.Addr{}
		}
	}
	if p.IPVersion == 4 {
		return net.Src4
	}
	return net.Src6
}

// icmpError sends the kernel an ICMP time exceeded or host unreachable
// about the packet parsed, from its destination network's address.
func (r *UplinkReactor) icmpError(frame []byte, kind icmpKind, net *Dest) {
	p := &r.parsed
	src := r.icmpSource(net)
	if !src.IsValid() {
		return
	}
	n := 0
	switch {
	case p.IPVersion == 4 && kind == icmpTimeExceeded:
		n = packet.PutICMPv4TimeExceeded(r.out, frame, p, gateway.MAC, src)
	case p.IPVersion == 4:
		n = packet.PutICMPv4DestUnreachable(r.out, frame, p, gateway.MAC, src, packet.ICMPv4HostUnreach)
	case kind == icmpTimeExceeded:
		n = packet.PutICMPv6TimeExceeded(r.out, frame, p, gateway.MAC, src)
	default:
		n = packet.PutICMPv6DestUnreachable(r.out, frame, p, gateway.MAC, src, packet.ICMPv6AddressUnreach)
	}
	if n > 0 {
		r.write(r.out[:n], nil)
	}
}

// tooBig sends the kernel fragmentation needed (IPv4 with DF) or packet
// too big (IPv6) for a packet larger than its destination's MTU; IPv4
// without DF is dropped, as a NIC reactor drops it.
func (r *UplinkReactor) tooBig(frame []byte, mtu int) {
	p := &r.parsed
	src := r.icmpSource(nil)
	if !src.IsValid() {
		return
	}
	n := 0
	switch {
	case p.IPVersion == 6:
		n = packet.PutICMPv6PacketTooBig(r.out, frame, p, gateway.MAC, src, uint32(mtu))
	case packet.IPv4(frame[p.L3Off:]).DontFragment():
		n = packet.PutICMPv4FragmentationNeeded(r.out, frame, p, gateway.MAC, src, uint16(mtu))
	}
	if n > 0 {
		r.write(r.out[:n], nil)
	}
}

// toKernel writes the frames public networks routed to the uplink, while
// write buffers are free, and releases them to their senders.
func (r *UplinkReactor) toKernel() {
	q := r.up.dest.Inbox
	for r.writeFrames(q) {
		// A lent frame faulted and was dropped: on with the rest.
	}
	q.Release()
}

// writeFrames writes frames of q while write buffers are free, as many
// as each frame needs (a super-frame one per segment, see writeFrame);
// a frame that needs more than are free waits for writes to complete
// (r.short). It reports true when a fault copying a lent frame cut it
// short (see catchLentFault).
func (r *UplinkReactor) writeFrames(q *inbox.Inbox) (faulted bool) {
	defer r.catchLentFault(&faulted)
	r.short = false
	for r.nfree > 0 {
		if !q.Peek(&r.cur) {
			break
		}
		if need := writesNeeded(&r.cur); need > r.nfree && r.nfree < uplinkWrites {
			r.short = true
			break
		}
		q.Next(&r.cur)
		r.lending = r.cur.Tail
		r.writeFrame(&r.cur)
		r.lending = nil
	}
	r.cur = inbox.Frame{}
	return false
}

// catchLentFault, deferred by writeFrames, recovers from a fault while
// reading the lent bytes of the frame being written (see lentfault.go):
// the frame is dropped and counted (DropLentFault), its write buffer is
// free again, and *faulted tells the caller to go on with the rest. Any
// other panic goes on.
func (r *UplinkReactor) catchLentFault(faulted *bool) {
	tail := r.lending
	if tail == nil {
		return
	}
	v := recover()
	r.lending = nil
	if !faultIn(v, tail) {
		panic(v)
	}
	if r.copying {
		r.nfree++
		r.copying = false
	}
	r.drop(DropLentFault)
	*faulted = true
}

// write queues the IP packet of the Ethernet frame head+tail (in pieces)
// to the TUN, behind a virtio_net_hdr of a complete packet, in a free
// write buffer.
func (r *UplinkReactor) write(head []byte, tail [][]byte) {
	if r.nfree == 0 {
		r.drop(DropUplinkWrite)
		return
	}
	if len(head) < packet.EthernetHeaderLen {
		r.drop(DropMalformed)
		return
	}
	l3 := len(head) - packet.EthernetHeaderLen
	for _, p := range tail {
		l3 += len(p)
	}
	idx := r.wfree[r.nfree-1]
	b := r.wbuf[idx]
	if tun.HdrLen+l3 > len(b) {
		r.drop(DropTooBig)
		return
	}
	r.nfree--
	r.copying = true
	tun.PutPlainHeader(b)
	n := tun.HdrLen + copy(b[tun.HdrLen:], head[packet.EthernetHeaderLen:])
	for _, p := range tail {
		n += copy(b[n:], p)
	}
	r.copying = false
	e := nextSQE(r.ring)
	e.PrepareWrite(r.up.dev.Fd(), b[:n], 0)
	e.UserData = tag(kindTunWrite, 0, int(idx))
	r.batch.rxPackets++
	r.batch.rxBytes += uint64(l3)
}
