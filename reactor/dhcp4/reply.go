package dhcp4

import (
	"errors"
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"

	"mvirt-net/reactor/lease"
)

// reply builds a reply of type typ to req into out, addressed as RFC 2131
// §4.1 says, and reports ev when one is due.
func (s *Server) reply(out []byte, req *dhcpv4.DHCPv4, typ dhcpv4.MessageType, ev lease.Kind) (int, Event, error) {
	resp := &dhcpv4.DHCPv4{
		OpCode:        dhcpv4.OpcodeBootReply,
		HWType:        req.HWType,
		TransactionID: req.TransactionID,
		Flags:         req.Flags,
		ClientIPAddr:  net.IPv4zero,
		YourIPAddr:    net.IPv4zero,
		ServerIPAddr:  net.IPv4zero,
		GatewayIPAddr: net.IPv4zero,
		ClientHWAddr:  req.ClientHWAddr,
		Options:       dhcpv4.Options{},
	}
	resp.UpdateOption(dhcpv4.OptMessageType(typ))
	resp.UpdateOption(dhcpv4.OptServerIdentifier(s.gw))
	// RFC 6842: echo the client identifier.
	if id := req.Options.Get(dhcpv4.OptionClientIdentifier); id != nil {
		resp.UpdateOption(dhcpv4.OptClientIdentifier(id))
	}
	switch {
	case typ == dhcpv4.MessageTypeNak:
		resp.UpdateOption(dhcpv4.OptMessage("requested address not available"))
	case req.MessageType() == dhcpv4.MessageTypeInform:
		// RFC 2131 §4.3.5: configuration only, no lease, no yiaddr.
		resp.ClientIPAddr = req.ClientIPAddr
		s.addOptions(resp, s.common)
	default:
		resp.ClientIPAddr = req.ClientIPAddr
		resp.YourIPAddr = s.addr
		s.addOptions(resp, s.common)
		s.addOptions(resp, s.lease)
	}
	msg := resp.ToBytes()

	n := packet.PutUDPFrame(out, &packet.UDPFrame{
		SrcMAC:  gateway.MAC,
		DstMAC:  s.cfg.MAC,
		Src:     gateway.IPv4,
		Dst:     replyDst(req, typ, s.cfg.Addr),
		SrcPort: ServerPort,
		DstPort: ClientPort,
	}, msg)
	if n == 0 {
		return 0, Event{}, errors.New("dhcp4: reply does not fit the output buffer")
	}
	if ev == lease.None {
		return n, Event{}, nil
	}
	return n, s.event(req, ev), nil
}

func (s *Server) addOptions(d *dhcpv4.DHCPv4, opts []dhcpv4.Option) {
	for _, o := range opts {
		d.UpdateOption(o)
	}
}

// replyDst picks the IP destination of a reply (RFC 2131 §4.1, giaddr being
// always zero here): NAKs are broadcast; other replies go to ciaddr if set,
// else to the broadcast address if the client asked for it, else to yiaddr.
// The Ethernet destination is always the client's MAC.
func replyDst(req *dhcpv4.DHCPv4, typ dhcpv4.MessageType, yiaddr netip.Addr) netip.Addr {
	switch {
	case typ == dhcpv4.MessageTypeNak:
		return gateway.Broadcast4
	case !req.ClientIPAddr.IsUnspecified():
		a, _ := netip.AddrFromSlice(req.ClientIPAddr.To4())
		return a
	case req.IsBroadcast():
		return gateway.Broadcast4
	}
	return yiaddr
}
