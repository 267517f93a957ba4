package vmm

import (
	"encoding/binary"
	"fmt"
)

// NetHeaderLen is the size of struct virtio_net_hdr_v1, which precedes
// every frame once VIRTIO_F_VERSION_1 (or VIRTIO_NET_F_MRG_RXBUF) is
// negotiated.
const NetHeaderLen = 12

// Values of NetHeader.Flags.
const (
	NetHdrFNeedsCsum = 1 // VIRTIO_NET_HDR_F_NEEDS_CSUM
	NetHdrFDataValid = 2 // VIRTIO_NET_HDR_F_DATA_VALID
	NetHdrFRscInfo   = 4 // VIRTIO_NET_HDR_F_RSC_INFO
)

// Values of NetHeader.GSOType.
const (
	NetHdrGSONone  = 0    // VIRTIO_NET_HDR_GSO_NONE
	NetHdrGSOTCPv4 = 1    // VIRTIO_NET_HDR_GSO_TCPV4
	NetHdrGSOUDP   = 3    // VIRTIO_NET_HDR_GSO_UDP
	NetHdrGSOTCPv6 = 4    // VIRTIO_NET_HDR_GSO_TCPV6
	NetHdrGSOUDPL4 = 5    // VIRTIO_NET_HDR_GSO_UDP_L4
	NetHdrGSOECN   = 0x80 // VIRTIO_NET_HDR_GSO_ECN, or-ed into the type
)

// NetHeader is struct virtio_net_hdr_v1; all fields are little-endian on
// the wire.
type NetHeader struct {
	Flags      uint8
	GSOType    uint8
	HdrLen     uint16
	GSOSize    uint16
	CsumStart  uint16
	CsumOffset uint16
	NumBuffers uint16
}

// Append appends the 12-byte encoding of h to b.
func (h NetHeader) Append(b []byte) []byte {
	b = append(b, h.Flags, h.GSOType)
	b = binary.LittleEndian.AppendUint16(b, h.HdrLen)
	b = binary.LittleEndian.AppendUint16(b, h.GSOSize)
	b = binary.LittleEndian.AppendUint16(b, h.CsumStart)
	b = binary.LittleEndian.AppendUint16(b, h.CsumOffset)
	return binary.LittleEndian.AppendUint16(b, h.NumBuffers)
}

// ParseNetHeader decodes the header at the start of b.
func ParseNetHeader(b []byte) (NetHeader, error) {
	if len(b) < NetHeaderLen {
		return NetHeader{}, fmt.Errorf("vmm: virtio_net_hdr: %d bytes, need %d", len(b), NetHeaderLen)
	}
	return NetHeader{
		Flags:      b[0],
		GSOType:    b[1],
		HdrLen:     binary.LittleEndian.Uint16(b[2:]),
		GSOSize:    binary.LittleEndian.Uint16(b[4:]),
		CsumStart:  binary.LittleEndian.Uint16(b[6:]),
		CsumOffset: binary.LittleEndian.Uint16(b[8:]),
		NumBuffers: binary.LittleEndian.Uint16(b[10:]),
	}, nil
}
