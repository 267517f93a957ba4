package vmm

import (
	"fmt"

	"mvirt-net/reactor/offload"
)

// NetHeaderLen is the size of struct virtio_net_hdr_v1, which precedes
// every frame once VIRTIO_F_VERSION_1 (or VIRTIO_NET_F_MRG_RXBUF) is
// negotiated.
const NetHeaderLen = offload.HeaderLen

// Values of NetHeader.Flags.
const (
	NetHdrFNeedsCsum = offload.FlagNeedsCsum // VIRTIO_NET_HDR_F_NEEDS_CSUM
	NetHdrFDataValid = offload.FlagDataValid // VIRTIO_NET_HDR_F_DATA_VALID
	NetHdrFRscInfo   = offload.FlagRscInfo   // VIRTIO_NET_HDR_F_RSC_INFO
)

// Values of NetHeader.GSOType.
const (
	NetHdrGSONone  = offload.GSONone  // VIRTIO_NET_HDR_GSO_NONE
	NetHdrGSOTCPv4 = offload.GSOTCPv4 // VIRTIO_NET_HDR_GSO_TCPV4
	NetHdrGSOUDP   = offload.GSOUDP   // VIRTIO_NET_HDR_GSO_UDP
	NetHdrGSOTCPv6 = offload.GSOTCPv6 // VIRTIO_NET_HDR_GSO_TCPV6
	NetHdrGSOUDPL4 = offload.GSOUDPL4 // VIRTIO_NET_HDR_GSO_UDP_L4
	NetHdrGSOECN   = offload.GSOECN   // VIRTIO_NET_HDR_GSO_ECN, or-ed into the type
)

// NetHeader is struct virtio_net_hdr_v1, the data plane's own codec
// (reactor/offload), so that the harness and the daemon cannot disagree on
// the layout.
type NetHeader = offload.Header

// ParseNetHeader decodes the 12-byte header at the start of b.
func ParseNetHeader(b []byte) (NetHeader, error) {
	if len(b) < NetHeaderLen {
		return NetHeader{}, fmt.Errorf("vmm: virtio_net_hdr: %d bytes, need %d", len(b), NetHeaderLen)
	}
	return offload.Decode(b[:NetHeaderLen]), nil
}
