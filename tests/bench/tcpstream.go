package bench

import (
	"encoding/binary"
	"errors"
	"fmt"

	"mvirt-net/reactor/offload"
	"mvirt-net/reactor/packet"
)

// The TCP stream of the TSO mode, as a Linux guest sends a bulk transfer
// on a 1500-byte MTU: the timestamp option in every segment, so an MSS of
// 1448 and full-size 1514-byte segments, and super-frames of the 45
// segments that fit in 64 KiB (tcp_tso_autosize).
const (
	tsoMSS         = 1448
	tsoSegments    = 45
	tsoPayload     = tsoMSS * tsoSegments
	tcpTSHeaderLen = packet.TCPMinHeaderLen + 12 // NOP, NOP, timestamps
	tsoL4Start     = packet.EthernetHeaderLen + packet.IPv4MinHeaderLen
	tsoHeaders     = tsoL4Start + tcpTSHeaderLen
	tcpCsumOffset  = 16
	tsoSrcPort     = 40000
	tsoDstPort     = 5201
)

// TCP flags of the stream's frames.
const (
	tcpFlagPSH = 0x08
	tcpFlagACK = 0x10
)

// streamByte is the payload byte at sequence number seq, so that any
// segment of the stream can be checked on its own.
func streamByte(seq uint32) byte { return byte(seq ^ seq>>8 ^ seq>>16) }

// putTCPHeaders writes the Ethernet, IPv4 and TCP headers (tsoHeaders
// bytes) of a segment from src to dst through the gateway starting at
// sequence number seq with payloadLen bytes of payload, and leaves in the
// TCP checksum field the pseudo-header sum a sender that offloads the
// checksum puts there (CHECKSUM_PARTIAL).
func putTCPHeaders(b []byte, src, dst endpoint, seq uint32, payloadLen int, id uint16) {
	packet.Ethernet(b).Encode(gatewayMAC, src.MAC, packet.EtherTypeIPv4)
	l4Len := tcpTSHeaderLen + payloadLen
	packet.IPv4(b[packet.EthernetHeaderLen:]).Encode(&packet.IPv4Fields{
		TotalLen: uint16(packet.IPv4MinHeaderLen + l4Len), ID: id, DontFragment: true,
		TTL: packet.IPv4DefaultTTL, Protocol: packet.ProtoTCP, Src: src.IP, Dst: dst.IP,
	})
	t := b[tsoL4Start:tsoHeaders]
	binary.BigEndian.PutUint16(t[0:], tsoSrcPort)
	binary.BigEndian.PutUint16(t[2:], tsoDstPort)
	binary.BigEndian.PutUint32(t[4:], seq)
	binary.BigEndian.PutUint32(t[8:], 1)
	t[12] = byte(tcpTSHeaderLen/4) << 4
	t[13] = tcpFlagACK | tcpFlagPSH
	binary.BigEndian.PutUint16(t[14:], 0xffff)
	binary.BigEndian.PutUint16(t[16:], packet.PseudoHeaderChecksum(packet.ProtoTCP, src.IP, dst.IP, uint16(l4Len)))
	binary.BigEndian.PutUint16(t[18:], 0)
	copy(t[20:], []byte{1, 1, 8, 10})
	binary.BigEndian.PutUint32(t[24:], 0x01020304)
	binary.BigEndian.PutUint32(t[28:], 0x05060708)
}

// tcpSegment is what checkTCPFrame found in a frame.
type tcpSegment struct {
	Seq     uint32
	Payload int
}

// checkTCPFrame checks a received frame of the stream from src to dst
// behind its virtio header hdr byte for byte: headers, IPv4 checksum, the
// TCP checksum (completed first if the header says NEEDS_CSUM; frame is
// changed then), the GSO fields of a super-frame, and every payload byte.
func checkTCPFrame(hdr, frame []byte, src, dst endpoint) (tcpSegment, error) {
	var seg tcpSegment
	if len(frame) < tsoHeaders || packet.Ethernet(frame).EtherType() != packet.EtherTypeIPv4 {
		return seg, fmt.Errorf("not a TCP/IPv4 frame of the stream (%d bytes)", len(frame))
	}
	ip := packet.IPv4(frame[packet.EthernetHeaderLen:])
	switch {
	case !ip.IsValid() || ip.HeaderLen() != packet.IPv4MinHeaderLen:
		return seg, errors.New("bad IPv4 header")
	case !ip.IsChecksumValid():
		return seg, errors.New("bad IPv4 header checksum")
	case ip.Protocol() != packet.ProtoTCP || ip.Src() != src.IP || ip.Dst() != dst.IP:
		return seg, fmt.Errorf("IPv4 %v > %v protocol %d, want TCP %v > %v", ip.Src(), ip.Dst(), ip.Protocol(), src.IP, dst.IP)
	case packet.EthernetHeaderLen+int(ip.TotalLen()) != len(frame):
		return seg, fmt.Errorf("IPv4 total length %d in a %d-byte frame", ip.TotalLen(), len(frame))
	}
	l4 := frame[tsoL4Start:]
	t := packet.TCP(l4)
	if t.SrcPort() != tsoSrcPort || t.DstPort() != tsoDstPort || t.HeaderLen() != tcpTSHeaderLen {
		return seg, fmt.Errorf("TCP ports %d > %d, header %d bytes", t.SrcPort(), t.DstPort(), t.HeaderLen())
	}
	if len(hdr) != netHdrLen {
		return seg, fmt.Errorf("virtio header of %d bytes", len(hdr))
	}
	h := offload.Decode(hdr)
	if h.NeedsCsum() {
		if h.CsumStart != tsoL4Start || h.CsumOffset != tcpCsumOffset {
			return seg, fmt.Errorf("NEEDS_CSUM at %d+%d, want %d+%d", h.CsumStart, h.CsumOffset, tsoL4Start, tcpCsumOffset)
		}
		binary.BigEndian.PutUint16(l4[tcpCsumOffset:], ^packet.Checksum(l4, 0))
	}
	if packet.TransportChecksum(packet.ProtoTCP, src.IP, dst.IP, l4) != 0 {
		return seg, errors.New("bad TCP checksum")
	}
	payload := l4[tcpTSHeaderLen:]
	seg.Seq, seg.Payload = binary.BigEndian.Uint32(l4[4:]), len(payload)
	switch h.GSOType {
	case offload.GSONone:
	case offload.GSOTCPv4:
		if h.GSOSize != tsoMSS || int(h.HdrLen) > tsoHeaders+tsoMSS {
			return seg, fmt.Errorf("TCPv4 super-frame with gso_size %d hdr_len %d", h.GSOSize, h.HdrLen)
		}
	default:
		return seg, fmt.Errorf("gso_type %#x", h.GSOType)
	}
	for i, c := range payload {
		if want := streamByte(seg.Seq + uint32(i)); c != want {
			return seg, fmt.Errorf("payload byte %d of the segment at seq %d is %#x, want %#x", i, seg.Seq, c, want)
		}
	}
	return seg, nil
}
