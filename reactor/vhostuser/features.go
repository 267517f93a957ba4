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
