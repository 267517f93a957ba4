package bench

import (
	"fmt"
	"net/netip"

	"mvirt-net/reactor/packet"
)

// gatewayMAC is the MAC of every VM's gateway, the destination of all
// routed traffic.
var gatewayMAC = packet.MAC{0x02, 0, 0, 0, 0, 1}

// endpoint is one side of the benchmark traffic: a NIC's MAC and address.
type endpoint struct {
	MAC packet.MAC
	IP  netip.Addr
}

// udpFrame returns a size-byte Ethernet frame (no FCS) carrying a UDP
// datagram from src to dst through the gateway, with correct checksums:
// what a guest sends to another VM.
func udpFrame(src, dst endpoint, size int) ([]byte, error) {
	hdr := packet.EthernetHeaderLen + packet.IPv4MinHeaderLen + packet.UDPHeaderLen
	if size < hdr {
		return nil, fmt.Errorf("bench: a %d-byte frame cannot hold Ethernet, IPv4 and UDP headers", size)
	}
	payload := make([]byte, size-hdr)
	for i := range payload {
		payload[i] = byte(i)
	}
	b := make([]byte, size)
	n := packet.PutUDPFrame(b, &packet.UDPFrame{
		SrcMAC: src.MAC, DstMAC: gatewayMAC, Src: src.IP, Dst: dst.IP, SrcPort: 9000, DstPort: 9001,
	}, payload)
	if n != size {
		return nil, fmt.Errorf("bench: cannot build a %d-byte UDP frame from %v to %v", size, src.IP, dst.IP)
	}
	return b, nil
}
