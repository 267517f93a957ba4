package bench

// The virtio-net offload feature bits the harness's TSO mode negotiates
// (virtio 1.2 §5.1.3), as masks.
const (
	featureCSUM      uint64 = 1 << 0  // VIRTIO_NET_F_CSUM: the device completes checksums
	featureGuestCSUM uint64 = 1 << 1  // VIRTIO_NET_F_GUEST_CSUM: the driver takes partial checksums
	featureGuestTSO4 uint64 = 1 << 7  // VIRTIO_NET_F_GUEST_TSO4: the driver takes TCPv4 super-frames
	featureHostTSO4  uint64 = 1 << 11 // VIRTIO_NET_F_HOST_TSO4: the device takes TCPv4 super-frames
)

// Flags and GSO types of struct virtio_net_hdr.
const (
	hdrFNeedsCsum = 1 // VIRTIO_NET_HDR_F_NEEDS_CSUM
	hdrFDataValid = 2 // VIRTIO_NET_HDR_F_DATA_VALID
	gsoNone       = 0 // VIRTIO_NET_HDR_GSO_NONE
	gsoTCPv4      = 1 // VIRTIO_NET_HDR_GSO_TCPV4
)

// Descriptor flags VIRTQ_DESC_F_NEXT and VIRTQ_DESC_F_INDIRECT.
const (
	descFNext     = 1
	descFIndirect = 4
)
