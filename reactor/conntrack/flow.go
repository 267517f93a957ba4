package conntrack

import (
	"encoding/binary"
	"net/netip"

	"mvirt-net/reactor/packet"
)

// Kind is what ParseFlow made of a frame.
type Kind uint8

// Kinds of flows.
const (
	// KindNone: not IP, or headers too short to read.
	KindNone Kind = iota
	// KindPorts: TCP or UDP with ports.
	KindPorts
	// KindEcho: an ICMP or ICMPv6 echo request or reply; SrcPort and
	// DstPort both hold its id.
	KindEcho
	// KindICMPError: an ICMP error; Inner is the packet it quotes.
	KindICMPError
	// KindOther: any other IP packet, or TCP / UDP whose ports are not
	// there (a fragment after the first).
	KindOther
)

// Flow is what the filter needs of one packet. The caller owns it and
// reuses it from frame to frame.
type Flow struct {
	Kind     Kind
	Src, Dst netip.Addr
	Proto    uint8
	SrcPort  uint16
	DstPort  uint16
	// TCPFlags are the TCP header's flags (FIN 0x01, SYN 0x02, RST 0x04,
	// ACK 0x10).
	TCPFlags uint8
	// EchoRequest is set for an echo request (KindEcho).
	EchoRequest bool
	// Inner is the quoted packet of a KindICMPError, as it was sent:
	// Inner.Src is the sender of the packet in error.
	Inner struct {
		Src, Dst         netip.Addr
		Proto            uint8
		SrcPort, DstPort uint16
		Kind             Kind
		EchoRequest      bool
	}
}

// TCP flags.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagACK = 0x10
)

// ParseFlow fills f from frame, an Ethernet frame that may be cut short
// after its headers (the head of a lent frame): it reads only what it
// needs and never allocates. f.Kind is KindNone for what it cannot use.
func ParseFlow(frame []byte, f *Flow) {
	*f = Flow{}
	if len(frame) < packet.EthernetHeaderLen {
		return
	}
	l3 := frame[packet.EthernetHeaderLen:]
	switch binary.BigEndian.Uint16(frame[12:14]) {
	case packet.EtherTypeIPv4:
		parse4(l3, f)
	case packet.EtherTypeIPv6:
		parse6(l3, f)
	}
}

func parse4(b []byte, f *Flow) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return
	}
	hl := int(b[0]&0xf) * 4
	if hl < 20 || len(b) < hl {
		return
	}
	f.Src = netip.AddrFrom4([4]byte(b[12:16]))
	f.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	f.Proto = b[9]
	f.Kind = KindOther
	if binary.BigEndian.Uint16(b[6:8])&0x1fff != 0 {
		return // a later fragment: no transport header
	}
	parseL4(b[hl:], f, false)
}

func parse6(b []byte, f *Flow) {
	if len(b) < packet.IPv6HeaderLen || b[0]>>4 != 6 {
		return
	}
	f.Src = netip.AddrFrom16([16]byte(b[8:24]))
	f.Dst = netip.AddrFrom16([16]byte(b[24:40]))
	proto, off, r := packet.SkipIPv6ExtHeaders(b[packet.IPv6HeaderLen:], b[6])
	f.Proto = proto
	f.Kind = KindOther
	if off < 0 || (r != packet.ReasonNone && r != packet.ReasonFragment) {
		return
	}
	parseL4(b[packet.IPv6HeaderLen+off:], f, true)
}

func parseL4(b []byte, f *Flow, v6 bool) {
	switch f.Proto {
	case packet.ProtoTCP:
		if len(b) >= 14 {
			f.Kind, f.SrcPort, f.DstPort = KindPorts, be16(b), be16(b[2:])
			f.TCPFlags = b[13]
		}
	case packet.ProtoUDP:
		if len(b) >= 4 {
			f.Kind, f.SrcPort, f.DstPort = KindPorts, be16(b), be16(b[2:])
		}
	case packet.ProtoICMPv4:
		if !v6 {
			parseICMP(b, f, 8, 0, packet.IsICMPv4Error)
		}
	case packet.ProtoICMPv6:
		if v6 {
			parseICMP(b, f, 128, 129, packet.IsICMPv6Error)
		}
	}
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

// parseICMP reads an ICMP or ICMPv6 header: echo request and reply types,
// and which types are errors quoting a packet.
func parseICMP(b []byte, f *Flow, request, reply uint8, isError func(uint8) bool) {
	if len(b) < 8 {
		return
	}
	switch t := b[0]; {
	case t == request || t == reply:
		f.Kind, f.EchoRequest = KindEcho, t == request
		f.SrcPort = be16(b[4:])
		f.DstPort = f.SrcPort
	case isError(t):
		var inner Flow
		if f.Src.Is4() {
			parse4(b[8:], &inner)
		} else {
			parse6(b[8:], &inner)
		}
		if inner.Kind == KindNone {
			return
		}
		f.Kind = KindICMPError
		f.Inner.Src, f.Inner.Dst, f.Inner.Proto = inner.Src, inner.Dst, inner.Proto
		f.Inner.SrcPort, f.Inner.DstPort = inner.SrcPort, inner.DstPort
		f.Inner.Kind, f.Inner.EchoRequest = inner.Kind, inner.EchoRequest
	}
}

// Key returns the connection key of f as its NIC sees it: egress says the
// NIC sent it (its source is Local), otherwise it is addressed to the NIC.
// For an ICMP error it is the key of the quoted packet's connection. An
// echo's key holds its id as LocalPort and which side asks as RemotePort
// (echoLocalAsks or echoRemoteAsks), so that a request from the peer is
// not taken for the reply to one of the NIC's own.
func (f *Flow) Key(egress bool) Key {
	src, dst, proto, sp, dp := f.Src, f.Dst, f.Proto, f.SrcPort, f.DstPort
	kind, request := f.Kind, f.EchoRequest
	if f.Kind == KindICMPError {
		// The quoted packet went the other way: the NIC receiving an
		// error sent the packet in error.
		src, dst, proto, sp, dp = f.Inner.Src, f.Inner.Dst, f.Inner.Proto, f.Inner.SrcPort, f.Inner.DstPort
		kind, request, egress = f.Inner.Kind, f.Inner.EchoRequest, !egress
	}
	k := Key{Proto: proto, V6: !src.Is4()}
	if egress {
		k.Local, k.Remote, k.LocalPort, k.RemotePort = src.As16(), dst.As16(), sp, dp
	} else {
		k.Local, k.Remote, k.LocalPort, k.RemotePort = dst.As16(), src.As16(), dp, sp
	}
	switch kind {
	case KindOther:
		k.LocalPort, k.RemotePort = 0, 0
	case KindEcho:
		k.RemotePort = echoRemoteAsks
		if egress == request {
			k.RemotePort = echoLocalAsks
		}
	}
	return k
}

// Which side of an echo asks, in its Key's RemotePort.
const (
	echoLocalAsks  = 1
	echoRemoteAsks = 2
)

// Sig is a frame's signature (see Signature): its protocol, addresses
// and ports, held as words so that checking a frame against it costs a
// few loads and compares.
type Sig struct {
	w     [4]uint64
	ports uint32
	proto uint8
	v6    bool
}

// Signature returns what names frame's connection when it is the common
// packet: IPv4 without options or IPv6 without extension headers,
// carrying TCP or UDP, not a later fragment. tcpFlags are TCP's flags. ok
// is false for anything else. Two frames with equal signatures belong to
// the same connection, in the same direction.
func Signature(frame []byte) (sig Sig, tcpFlags uint8, ok bool) {
	var l4 int
	switch {
	case common4(frame):
		sig.proto = frame[23]
		sig.w[0] = binary.LittleEndian.Uint64(frame[26:34])
		sig.ports = binary.LittleEndian.Uint32(frame[34:38])
		l4 = 34
	case common6(frame):
		sig.proto, sig.v6 = frame[20], true
		a := frame[22:58]
		sig.w[0] = binary.LittleEndian.Uint64(a[0:8])
		sig.w[1] = binary.LittleEndian.Uint64(a[8:16])
		sig.w[2] = binary.LittleEndian.Uint64(a[16:24])
		sig.w[3] = binary.LittleEndian.Uint64(a[24:32])
		sig.ports = binary.LittleEndian.Uint32(a[32:36])
		l4 = 54
	default:
		return Sig{}, 0, false
	}
	tcpFlags, ok = transport(frame, sig.proto, l4)
	if !ok {
		return Sig{}, 0, false
	}
	return sig, tcpFlags, true
}

// common4 reports whether frame is IPv4 without options, not a later
// fragment, with room for its ports.
func common4(frame []byte) bool {
	return len(frame) >= 14+20+4 && binary.BigEndian.Uint16(frame[12:14]) == packet.EtherTypeIPv4 &&
		frame[14] == 0x45 && frame[20]&0x1f == 0 && frame[21] == 0
}

// common6 reports whether frame is IPv6 with room for its ports.
func common6(frame []byte) bool {
	return len(frame) >= 14+40+4 && binary.BigEndian.Uint16(frame[12:14]) == packet.EtherTypeIPv6 && frame[14]>>4 == 6
}

// transport reports whether proto is UDP, or TCP with its flags in
// frame (whose transport header starts at l4), and returns the flags.
func transport(frame []byte, proto uint8, l4 int) (tcpFlags uint8, ok bool) {
	switch {
	case proto == packet.ProtoUDP:
		return 0, true
	case proto == packet.ProtoTCP && len(frame) >= l4+14:
		return frame[l4+13], true
	}
	return 0, false
}
