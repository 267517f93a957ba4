package bench

import "mvirt-net/reactor/offload"

// The virtio-net offload feature bits the harness's TSO mode negotiates,
// as masks.
const (
	featureCSUM      uint64 = 1 << offload.BitCsum      // the device completes checksums
	featureGuestCSUM uint64 = 1 << offload.BitGuestCsum // the driver takes partial checksums
	featureGuestTSO4 uint64 = 1 << offload.BitGuestTSO4 // the driver takes TCPv4 super-frames
	featureHostTSO4  uint64 = 1 << offload.BitHostTSO4  // the device takes TCPv4 super-frames
)

// Descriptor flags VIRTQ_DESC_F_NEXT and VIRTQ_DESC_F_INDIRECT.
const (
	descFNext     = 1
	descFIndirect = 4
)
