package vhostuser

// Virtio feature bits (GET_FEATURES / SET_FEATURES) that matter to a
// vhost-user virtio-net back-end, as masks.
const (
	// FeatureMTU is VIRTIO_NET_F_MTU: the device advises a maximum MTU.
	// The front-end serves it to the driver in the device configuration
	// space, which is the front-end's own (a Session has none: no
	// GET_CONFIG), and reports it with NET_SET_MTU, which the Session
	// checks against its MaxMTU.
	FeatureMTU uint64 = 1 << 3
	// FeatureMrgRxbuf is VIRTIO_NET_F_MRG_RXBUF: a received frame may span
	// several receive buffers.
	FeatureMrgRxbuf uint64 = 1 << 15
	// FeatureLogAll is VHOST_F_LOG_ALL: dirty-page logging for live
	// migration. Not offered.
	FeatureLogAll uint64 = 1 << 26
	// FeatureIndirectDesc is VIRTIO_RING_F_INDIRECT_DESC.
	FeatureIndirectDesc uint64 = 1 << 28
	// FeatureEventIdx is VIRTIO_RING_F_EVENT_IDX.
	FeatureEventIdx uint64 = 1 << 29
	// FeatureProtocolFeatures is VHOST_USER_F_PROTOCOL_FEATURES: the
	// back-end supports GET/SET_PROTOCOL_FEATURES.
	FeatureProtocolFeatures uint64 = 1 << 30
	// FeatureVersion1 is VIRTIO_F_VERSION_1 (modern, little-endian device).
	FeatureVersion1 uint64 = 1 << 32
)

// Offload feature bits of virtio-net (virtio 1.2, 5.1.3), as masks. The
// HOST_ ones let the driver hand the device frames with a partial
// checksum (CSUM) or larger than the MTU (TSO, USO); the GUEST_ ones let
// the device hand such frames to the driver.
const (
	FeatureCsum      uint64 = 1 << 0  // VIRTIO_NET_F_CSUM
	FeatureGuestCsum uint64 = 1 << 1  // VIRTIO_NET_F_GUEST_CSUM
	FeatureGuestTSO4 uint64 = 1 << 7  // VIRTIO_NET_F_GUEST_TSO4
	FeatureGuestTSO6 uint64 = 1 << 8  // VIRTIO_NET_F_GUEST_TSO6
	FeatureGuestECN  uint64 = 1 << 9  // VIRTIO_NET_F_GUEST_ECN
	FeatureHostTSO4  uint64 = 1 << 11 // VIRTIO_NET_F_HOST_TSO4
	FeatureHostTSO6  uint64 = 1 << 12 // VIRTIO_NET_F_HOST_TSO6
	FeatureHostECN   uint64 = 1 << 13 // VIRTIO_NET_F_HOST_ECN
	FeatureGuestUSO4 uint64 = 1 << 54 // VIRTIO_NET_F_GUEST_USO4
	FeatureGuestUSO6 uint64 = 1 << 55 // VIRTIO_NET_F_GUEST_USO6
	FeatureHostUSO   uint64 = 1 << 56 // VIRTIO_NET_F_HOST_USO
)

// OffloadFeatures are the offloads a Session offers on top of
// DefaultFeatures when the reactor is configured for them. A driver may
// acknowledge any subset; the reactor acts only on the part whose
// dependencies (virtio 1.2, 5.1.3.1) are acknowledged too, and treats an
// offload acknowledged without its dependency as not negotiated (see
// reactor/offload), so a driver that gets the rules wrong loses that
// offload, not its link.
const OffloadFeatures = FeatureCsum | FeatureGuestCsum |
	FeatureHostTSO4 | FeatureHostTSO6 | FeatureHostECN | FeatureHostUSO |
	FeatureGuestTSO4 | FeatureGuestTSO6 | FeatureGuestECN | FeatureGuestUSO4 | FeatureGuestUSO6

// DefaultFeatures is the virtio feature set a Session offers unless its
// Config says otherwise.
const DefaultFeatures = FeatureVersion1 | FeatureMrgRxbuf | FeatureEventIdx |
	FeatureIndirectDesc | FeatureProtocolFeatures | FeatureMTU

// Protocol feature bits (GET_PROTOCOL_FEATURES / SET_PROTOCOL_FEATURES), as
// masks.
const (
	ProtocolMQ                  uint64 = 1 << 0
	ProtocolLogShmfd            uint64 = 1 << 1
	ProtocolRARP                uint64 = 1 << 2
	ProtocolReplyAck            uint64 = 1 << 3
	ProtocolNetMTU              uint64 = 1 << 4
	ProtocolBackendReq          uint64 = 1 << 5
	ProtocolCrossEndian         uint64 = 1 << 6
	ProtocolCryptoSession       uint64 = 1 << 7
	ProtocolPagefault           uint64 = 1 << 8
	ProtocolConfig              uint64 = 1 << 9
	ProtocolBackendSendFd       uint64 = 1 << 10
	ProtocolHostNotifier        uint64 = 1 << 11
	ProtocolInflightShmfd       uint64 = 1 << 12
	ProtocolResetDevice         uint64 = 1 << 13
	ProtocolInbandNotifications uint64 = 1 << 14
	ProtocolConfigureMemSlots   uint64 = 1 << 15
	ProtocolStatus              uint64 = 1 << 16
	ProtocolXenMmap             uint64 = 1 << 17
	ProtocolSharedObject        uint64 = 1 << 18
	ProtocolDeviceState         uint64 = 1 << 19
)

// SupportedProtocolFeatures is the protocol feature set a Session offers.
const SupportedProtocolFeatures = ProtocolMQ | ProtocolReplyAck | ProtocolConfigureMemSlots | ProtocolNetMTU
