package virtq

// Features is a set of negotiated virtio feature bits, numbered as in the
// spec, so that the vhost-user layer can pass its negotiated mask as is.
type Features uint64

// Feature bits the queue and the RX helper act on.
const (
	FeatureNetMrgRxBuf  Features = 1 << 15 // VIRTIO_NET_F_MRG_RXBUF
	FeatureIndirectDesc Features = 1 << 28 // VIRTIO_F_INDIRECT_DESC
	FeatureEventIdx     Features = 1 << 29 // VIRTIO_F_EVENT_IDX
	FeatureVersion1     Features = 1 << 32 // VIRTIO_F_VERSION_1
)

// Has reports whether every bit of g is in f.
func (f Features) Has(g Features) bool { return f&g == g }

// NetHeaderLen returns the length of the virtio_net_hdr that precedes
// every frame: 12 bytes (with num_buffers) when VIRTIO_F_VERSION_1 or
// VIRTIO_NET_F_MRG_RXBUF is negotiated, else the legacy 10.
func NetHeaderLen(f Features) int {
	if f&(FeatureVersion1|FeatureNetMrgRxBuf) != 0 {
		return 12
	}
	return 10
}
