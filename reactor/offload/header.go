package offload

import "encoding/binary"

// Lengths of the virtio_net_hdr on the wire.
const (
	// HeaderLen is the length of struct virtio_net_hdr_v1 (with
	// num_buffers), used once VIRTIO_F_VERSION_1 or VIRTIO_NET_F_MRG_RXBUF
	// is negotiated.
	HeaderLen = 12
	// LegacyHeaderLen is the length of the legacy struct virtio_net_hdr,
	// without num_buffers.
	LegacyHeaderLen = 10
)

// Values of Header.Flags.
const (
	FlagNeedsCsum uint8 = 1 // VIRTIO_NET_HDR_F_NEEDS_CSUM: checksum from CsumStart left to the device
	FlagDataValid uint8 = 2 // VIRTIO_NET_HDR_F_DATA_VALID: checksum already verified (device to driver)
	FlagRscInfo   uint8 = 4 // VIRTIO_NET_HDR_F_RSC_INFO: coalescing info in the csum fields (device to driver)
)

// Values of Header.GSOType.
const (
	GSONone  uint8 = 0    // VIRTIO_NET_HDR_GSO_NONE
	GSOTCPv4 uint8 = 1    // VIRTIO_NET_HDR_GSO_TCPV4
	GSOUDP   uint8 = 3    // VIRTIO_NET_HDR_GSO_UDP (UFO, IP fragmentation; never negotiated here)
	GSOTCPv6 uint8 = 4    // VIRTIO_NET_HDR_GSO_TCPV6
	GSOUDPL4 uint8 = 5    // VIRTIO_NET_HDR_GSO_UDP_L4 (USO)
	GSOECN   uint8 = 0x80 // VIRTIO_NET_HDR_GSO_ECN, or-ed into the type
)

// Header is struct virtio_net_hdr_v1, the header that precedes every frame
// on a virtio-net queue. All multi-byte fields are little-endian on the
// wire (VIRTIO_F_VERSION_1; legacy big-endian guests are not supported).
type Header struct {
	Flags   uint8 // Flag* bits
	GSOType uint8 // GSO* type, possibly with GSOECN
	// HdrLen is, from a driver, a hint of the header length (Ethernet to
	// transport) of a GSO frame; Validate does not rely on it.
	HdrLen uint16
	// GSOSize is the payload bytes per segment (the MSS for TCP).
	GSOSize uint16
	// CsumStart is the offset, from the start of the frame, where a
	// NEEDS_CSUM checksum starts (the transport header).
	CsumStart uint16
	// CsumOffset is where, after CsumStart, the checksum is stored.
	CsumOffset uint16
	// NumBuffers is the number of merged RX buffers; it exists on the wire
	// only in the 12-byte form and is zero in frames a driver sends.
	NumBuffers uint16
}

// Decode decodes the header in b, which must be exactly the header: 12
// bytes (num_buffers included) or the legacy 10 (NumBuffers is then 0).
// It panics if b is shorter than LegacyHeaderLen.
func Decode(b []byte) Header {
	h := Header{
		Flags:      b[0],
		GSOType:    b[1],
		HdrLen:     binary.LittleEndian.Uint16(b[2:4]),
		GSOSize:    binary.LittleEndian.Uint16(b[4:6]),
		CsumStart:  binary.LittleEndian.Uint16(b[6:8]),
		CsumOffset: binary.LittleEndian.Uint16(b[8:10]),
	}
	if len(b) >= HeaderLen {
		h.NumBuffers = binary.LittleEndian.Uint16(b[10:12])
	}
	return h
}

// Encode writes h into b, which must be exactly the header: 12 bytes
// (num_buffers included) or the legacy 10. It panics if b is shorter than
// LegacyHeaderLen.
func (h Header) Encode(b []byte) {
	b[0], b[1] = h.Flags, h.GSOType
	binary.LittleEndian.PutUint16(b[2:4], h.HdrLen)
	binary.LittleEndian.PutUint16(b[4:6], h.GSOSize)
	binary.LittleEndian.PutUint16(b[6:8], h.CsumStart)
	binary.LittleEndian.PutUint16(b[8:10], h.CsumOffset)
	if len(b) >= HeaderLen {
		binary.LittleEndian.PutUint16(b[10:12], h.NumBuffers)
	}
}

// Append appends the 12-byte encoding of h to b.
func (h Header) Append(b []byte) []byte {
	var w [HeaderLen]byte
	h.Encode(w[:])
	return append(b, w[:]...)
}

// IsGSO reports whether h asks for segmentation offload.
func (h Header) IsGSO() bool { return h.GSOType != GSONone }

// GSOKind returns the GSO type without the ECN bit.
func (h Header) GSOKind() uint8 { return h.GSOType &^ GSOECN }

// NeedsCsum reports whether the checksum from CsumStart is left to the
// device.
func (h Header) NeedsCsum() bool { return h.Flags&FlagNeedsCsum != 0 }

// PassThrough returns the header to hand to a peer that takes the frame as
// is (it negotiated the GUEST_* features the frame needs): the offload
// fields of h that are in use, without DATA_VALID, RSC_INFO or unknown flags a sending
// driver has no business setting (a peer would trust DATA_VALID and skip
// verifying the checksum), and with NumBuffers zero for the RX path to
// fill in.
func (h Header) PassThrough() Header {
	var p Header
	if h.NeedsCsum() {
		p.Flags, p.CsumStart, p.CsumOffset = FlagNeedsCsum, h.CsumStart, h.CsumOffset
	}
	if h.IsGSO() {
		p.GSOType, p.HdrLen, p.GSOSize = h.GSOType, h.HdrLen, h.GSOSize
	}
	return p
}

// Rebased returns h for the same packet behind a link header delta bytes
// longer (negative: shorter), as when the uplink's TUN, whose packets start
// at the IP header, meets Ethernet frames (delta ±14): csum_start and the
// hdr_len hint move with the headers. Fields not in use stay as they are.
func (h Header) Rebased(delta int) Header {
	if h.NeedsCsum() {
		h.CsumStart = uint16(int(h.CsumStart) + delta)
	}
	if h.IsGSO() && h.HdrLen != 0 {
		h.HdrLen = uint16(max(int(h.HdrLen)+delta, 0))
	}
	return h
}
