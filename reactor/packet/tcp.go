package packet

import "encoding/binary"

// TCPMinHeaderLen is the length of a TCP header without options.
const TCPMinHeaderLen = 20

// TCP is a view of a TCP segment. It must hold at least TCPMinHeaderLen
// bytes.
type TCP []byte

// SrcPort returns the source port.
func (t TCP) SrcPort() uint16 { return binary.BigEndian.Uint16(t[0:2]) }

// DstPort returns the destination port.
func (t TCP) DstPort() uint16 { return binary.BigEndian.Uint16(t[2:4]) }

// HeaderLen returns the data offset in bytes, options included.
func (t TCP) HeaderLen() int { return int(t[12]>>4) * 4 }

// Flags returns the flag byte (CWR ECE URG ACK PSH RST SYN FIN).
func (t TCP) Flags() uint8 { return t[13] }

// Checksum returns the checksum field.
func (t TCP) Checksum() uint16 { return binary.BigEndian.Uint16(t[16:18]) }
