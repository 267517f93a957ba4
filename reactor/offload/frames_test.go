package offload_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"mvirt-net/reactor/offload"
)

// The tests build frames the slow, obvious way, independently of the code
// under test: header bytes by hand, sums by refSum.

var (
	src4 = netip.MustParseAddr("198.51.100.10")
	dst4 = netip.MustParseAddr("203.0.113.20")
	src6 = netip.MustParseAddr("2001:db8::10")
	dst6 = netip.MustParseAddr("2001:db8:1::20")
)

// refSum is the RFC 1071 sum, not complemented, of the concatenated byte
// slices, written for clarity.
func refSum(bs ...[]byte) uint16 {
	var all []byte
	for _, b := range bs {
		all = append(all, b...)
	}
	var s uint32
	for i := 0; i < len(all); i += 2 {
		w := uint32(all[i]) << 8
		if i+1 < len(all) {
			w |= uint32(all[i+1])
		}
		s += w
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// flow describes a super-frame the way a Linux guest would send it.
type flow struct {
	v6      bool
	udp     bool
	ecn     bool   // ECN bit in gso_type (and CWR set in TCP)
	tcpOpts int    // bytes of TCP options (multiple of 4)
	dstOpts int    // bytes of an IPv6 destination options header (multiple of 8, 0: none)
	flags   uint8  // TCP flags
	seq     uint32 // TCP sequence number
	id      uint16 // IPv4 id
	mss     int
	payload []byte
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

// pseudo returns the pseudo-header bytes for an L4 message of length n.
func (f *flow) pseudo(n int) []byte {
	var b []byte
	if f.v6 {
		s, d := src6.As16(), dst6.As16()
		b = append(append(b, s[:]...), d[:]...)
		b = binary.BigEndian.AppendUint32(b, uint32(n))
		b = append(b, 0, 0, 0, f.proto())
	} else {
		s, d := src4.As4(), dst4.As4()
		b = append(append(b, s[:]...), d[:]...)
		b = append(b, 0, f.proto())
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	}
	return b
}

func (f *flow) proto() uint8 {
	if f.udp {
		return 17
	}
	return 6
}

// frame builds one frame of f carrying payload, segment number seg of
// total (seg < 0: the super-frame itself, whose checksum field holds the
// pseudo-header sum as Linux leaves it). offset is the payload offset in the
// stream, for the sequence number.
func (f *flow) frame(payload []byte, seg, total, offset int) []byte {
	var l4 []byte
	if f.udp {
		l4 = make([]byte, 8)
		binary.BigEndian.PutUint16(l4[0:], 4000)
		binary.BigEndian.PutUint16(l4[2:], 5000)
		binary.BigEndian.PutUint16(l4[4:], uint16(8+len(payload)))
	} else {
		l4 = make([]byte, 20+f.tcpOpts)
		binary.BigEndian.PutUint16(l4[0:], 40000)
		binary.BigEndian.PutUint16(l4[2:], 443)
		binary.BigEndian.PutUint32(l4[4:], f.seq+uint32(offset))
		binary.BigEndian.PutUint32(l4[8:], 0x01020304)
		l4[12] = byte(len(l4)/4) << 4
		flags := f.flags
		if seg >= 0 && seg != total-1 {
			flags &^= 0x01 | 0x08 // FIN, PSH
		}
		if seg > 0 {
			flags &^= 0x80 // CWR
		}
		l4[13] = flags
		binary.BigEndian.PutUint16(l4[14:], 65000)
		for i := 20; i < len(l4); i++ {
			l4[i] = 1 // NOP
		}
	}
	l4 = append(l4, payload...)
	ck := 6
	if !f.udp {
		ck = 16
	}
	ps := refSum(f.pseudo(len(l4)))
	if seg < 0 {
		binary.BigEndian.PutUint16(l4[ck:], ps)
	} else {
		c := ^refSum(f.pseudo(len(l4)), l4)
		if c == 0 && f.udp {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(l4[ck:], c)
	}
	eth := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00}
	var ip []byte
	if f.v6 {
		eth[12], eth[13] = 0x86, 0xdd
		ip = make([]byte, 40)
		ip[0], ip[1] = 0x60, 0x0a
		next := f.proto()
		var ext []byte
		if f.dstOpts > 0 {
			ext = make([]byte, f.dstOpts)
			ext[0], ext[1] = next, byte(f.dstOpts/8-1)
			ext[2], ext[3] = 1, byte(f.dstOpts-4) // PadN
			next = 60
		}
		binary.BigEndian.PutUint16(ip[4:], uint16(len(ext)+len(l4)))
		ip[6], ip[7] = next, 64
		s, d := src6.As16(), dst6.As16()
		copy(ip[8:], s[:])
		copy(ip[24:], d[:])
		ip = append(ip, ext...)
	} else {
		ip = make([]byte, 20)
		ip[0], ip[1] = 0x45, 0x02
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(l4)))
		id := f.id
		if seg > 0 {
			id += uint16(seg)
		}
		binary.BigEndian.PutUint16(ip[4:], id)
		ip[6] = 0x40 // DF
		ip[8], ip[9] = 64, f.proto()
		s, d := src4.As4(), dst4.As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		binary.BigEndian.PutUint16(ip[10:], ^refSum(ip))
	}
	return bytes.Join([][]byte{eth, ip, l4}, nil)
}

// superFrame returns the GSO frame of f and the header a Linux guest sends
// with it: NEEDS_CSUM at the transport checksum, hdr_len the header length.
func (f *flow) superFrame() (offload.Header, []byte) {
	fr := f.frame(f.payload, -1, 0, 0)
	hl := len(fr) - len(f.payload)
	h := offload.Header{Flags: offload.FlagNeedsCsum, HdrLen: uint16(hl), GSOSize: uint16(f.mss)}
	switch {
	case f.udp:
		h.GSOType = offload.GSOUDPL4
		h.CsumOffset = 6
	case f.v6:
		h.GSOType = offload.GSOTCPv6
		h.CsumOffset = 16
	default:
		h.GSOType = offload.GSOTCPv4
		h.CsumOffset = 16
	}
	if f.ecn {
		h.GSOType |= offload.GSOECN
	}
	h.CsumStart = uint16(hl - 8)
	if !f.udp {
		h.CsumStart = uint16(hl - 20 - f.tcpOpts)
	}
	return h, fr
}

// segments returns the reference segmentation of f: whole frames with full
// checksums.
func (f *flow) segments() [][]byte {
	var out [][]byte
	n := max(1, (len(f.payload)+f.mss-1)/f.mss)
	for i := range n {
		lo, hi := i*f.mss, min((i+1)*f.mss, len(f.payload))
		out = append(out, f.frame(f.payload[lo:hi], i, n, lo))
	}
	return out
}

// split cuts b into pieces at the given offsets, ignoring those beyond b
// or before the previous one.
func split(b []byte, cuts ...int) [][]byte {
	var out [][]byte
	prev := 0
	for _, c := range cuts {
		if c < prev || c > len(b) {
			continue
		}
		out = append(out, b[prev:c])
		prev = c
	}
	return append(out, b[prev:])
}

// hostAll is what a sender that negotiated every host offload may send.
const hostAll = offload.Csum | offload.HostTSO4 | offload.HostTSO6 | offload.HostECN | offload.HostUSO
