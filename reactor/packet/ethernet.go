package packet

import "encoding/binary"

// EthernetHeaderLen is the length of an untagged Ethernet II header.
const EthernetHeaderLen = 14

// EtherTypes the reactor knows. Tagged frames (VLAN, QinQ) are recognised
// only to be dropped: there is no L2 segment behind a vNIC.
const (
	EtherTypeIPv4 uint16 = 0x0800
	EtherTypeARP  uint16 = 0x0806
	EtherTypeVLAN uint16 = 0x8100
	EtherTypeIPv6 uint16 = 0x86dd
	EtherTypeQinQ uint16 = 0x88a8
)

// Ethernet is a view of an Ethernet II header followed by its payload. The
// slice must hold at least EthernetHeaderLen bytes.
type Ethernet []byte

// Dst returns the destination address.
func (e Ethernet) Dst() MAC { return MAC(e[0:6]) }

// Src returns the source address.
func (e Ethernet) Src() MAC { return MAC(e[6:12]) }

// EtherType returns the type field.
func (e Ethernet) EtherType() uint16 { return binary.BigEndian.Uint16(e[12:14]) }

// Encode writes the header.
func (e Ethernet) Encode(dst, src MAC, etherType uint16) {
	copy(e[0:6], dst[:])
	copy(e[6:12], src[:])
	binary.BigEndian.PutUint16(e[12:14], etherType)
}
