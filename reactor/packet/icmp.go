package packet

import "encoding/binary"

// ICMPHeaderLen is the length of the fixed part of ICMPv4 and ICMPv6
// messages that Parse requires: type, code, checksum and four bytes of
// message-specific data.
const ICMPHeaderLen = 8

// ICMPv4 types and codes the gateway sends or answers.
const (
	ICMPv4EchoReply     uint8 = 0
	ICMPv4DestUnreach   uint8 = 3
	ICMPv4SourceQuench  uint8 = 4
	ICMPv4Redirect      uint8 = 5
	ICMPv4Echo          uint8 = 8
	ICMPv4TimeExceeded  uint8 = 11
	ICMPv4ParamProblem  uint8 = 12
	ICMPv4NetUnreach    uint8 = 0
	ICMPv4HostUnreach   uint8 = 1
	ICMPv4ProtoUnreach  uint8 = 2
	ICMPv4PortUnreach   uint8 = 3
	ICMPv4FragNeeded    uint8 = 4
	ICMPv4AdminProhibit uint8 = 13
	ICMPv4TTLExceeded   uint8 = 0
)

// ICMPv6 types and codes the gateway sends or answers.
const (
	ICMPv6DestUnreach       uint8 = 1
	ICMPv6PacketTooBig      uint8 = 2
	ICMPv6TimeExceeded      uint8 = 3
	ICMPv6ParamProblem      uint8 = 4
	ICMPv6EchoRequest       uint8 = 128
	ICMPv6EchoReply         uint8 = 129
	ICMPv6RouterSolicit     uint8 = 133
	ICMPv6RouterAdvert      uint8 = 134
	ICMPv6NeighborSolicit   uint8 = 135
	ICMPv6NeighborAdvert    uint8 = 136
	ICMPv6Redirect          uint8 = 137
	ICMPv6NoRoute           uint8 = 0
	ICMPv6AdminProhibited   uint8 = 1
	ICMPv6AddressUnreach    uint8 = 3
	ICMPv6PortUnreach       uint8 = 4
	ICMPv6HopLimitExceeded  uint8 = 0
	ICMPv6ParamUnrecognized uint8 = 2
)

// IsICMPv4Error reports whether an ICMPv4 message of type t is an error
// message, to which no ICMP error may be sent (RFC 1122 §3.2.2).
func IsICMPv4Error(t uint8) bool {
	switch t {
	case ICMPv4DestUnreach, ICMPv4SourceQuench, ICMPv4Redirect, ICMPv4TimeExceeded, ICMPv4ParamProblem:
		return true
	}
	return false
}

// IsICMPv6Error reports whether an ICMPv6 message of type t is an error
// message or a redirect, to which no ICMPv6 error may be sent (RFC 4443
// §2.4 e.1).
func IsICMPv6Error(t uint8) bool { return t < 128 || t == ICMPv6Redirect }

// ICMP is a view of an ICMPv4 or ICMPv6 message; the two share their header
// layout. It must hold at least ICMPHeaderLen bytes.
type ICMP []byte

// Type returns the message type.
func (m ICMP) Type() uint8 { return m[0] }

// Code returns the message code.
func (m ICMP) Code() uint8 { return m[1] }

// Checksum returns the checksum field.
func (m ICMP) Checksum() uint16 { return binary.BigEndian.Uint16(m[2:4]) }

// Ident returns the echo identifier.
func (m ICMP) Ident() uint16 { return binary.BigEndian.Uint16(m[4:6]) }

// Seq returns the echo sequence number.
func (m ICMP) Seq() uint16 { return binary.BigEndian.Uint16(m[6:8]) }

// MTU returns the next-hop MTU of an ICMPv4 fragmentation-needed message
// (RFC 1191).
func (m ICMP) MTU() uint16 { return binary.BigEndian.Uint16(m[6:8]) }

// MTU6 returns the MTU of an ICMPv6 packet-too-big message.
func (m ICMP) MTU6() uint32 { return binary.BigEndian.Uint32(m[4:8]) }

// Payload returns the bytes after the eight-byte header.
func (m ICMP) Payload() []byte { return m[ICMPHeaderLen:] }

// SetType sets the message type.
func (m ICMP) SetType(t uint8) { m[0] = t }

// SetChecksum sets the checksum field.
func (m ICMP) SetChecksum(c uint16) { binary.BigEndian.PutUint16(m[2:4], c) }
