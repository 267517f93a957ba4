package dhcp4

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"

	"mvirt-net/reactor/lease"
)

// UDP ports of DHCPv4.
const (
	ServerPort = 67
	ClientPort = 68
)

// errNotDHCP means the frame is not a DHCPv4 client message to this server.
var errNotDHCP = errors.New("not a DHCPv4 message from the NIC to port 67")

// Server answers the DHCPv4 client of one NIC. It is immutable and safe for
// concurrent use; a new configuration means a new Server.
type Server struct {
	cfg    Config
	mac    net.HardwareAddr
	addr   net.IP
	gw     net.IP
	common []dhcpv4.Option // handed out with every ACK and OFFER
	lease  []dhcpv4.Option // lease time, T1 and T2
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.LeaseTime == 0 {
		cfg.LeaseTime = DefaultLeaseTime
	}
	gw := net.IP(gateway.IPv4.AsSlice())
	s := &Server{
		cfg:  cfg,
		mac:  net.HardwareAddr(cfg.MAC[:]),
		addr: net.IP(cfg.Addr.AsSlice()),
		gw:   gw,
	}
	s.common = []dhcpv4.Option{
		dhcpv4.OptSubnetMask(net.CIDRMask(32, 32)),
		dhcpv4.OptRouter(gw),
		dhcpv4.OptClasslessStaticRoute(
			&dhcpv4.Route{Dest: &net.IPNet{IP: gw, Mask: net.CIDRMask(32, 32)}, Router: net.IPv4zero},
			&dhcpv4.Route{Dest: &net.IPNet{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}, Router: gw},
		),
	}
	if dns := ipv4s(cfg.DNS); len(dns) > 0 {
		s.common = append(s.common, dhcpv4.OptDNS(dns...))
	}
	if ntp := ipv4s(cfg.NTP); len(ntp) > 0 {
		s.common = append(s.common, dhcpv4.OptNTPServers(ntp...))
	}
	if cfg.MTU != 0 {
		s.common = append(s.common, dhcpv4.OptGeneric(dhcpv4.OptionInterfaceMTU, []byte{byte(cfg.MTU >> 8), byte(cfg.MTU)}))
	}
	if cfg.Domain != "" {
		s.common = append(s.common, dhcpv4.OptDomainName(cfg.Domain))
	}
	s.lease = []dhcpv4.Option{
		dhcpv4.OptIPAddressLeaseTime(cfg.LeaseTime),
		dhcpv4.OptRenewTimeValue(cfg.LeaseTime / 2),
		dhcpv4.OptRebindingTimeValue(cfg.LeaseTime * 7 / 8),
	}
	return s, nil
}

func ipv4s(addrs []netip.Addr) []net.IP {
	var ips []net.IP
	for _, a := range addrs {
		if a.Is4() {
			ips = append(ips, net.IP(a.AsSlice()))
		}
	}
	return ips
}

// Handle answers the DHCPv4 message in frame, an Ethernet frame from the
// NIC. It writes the reply frame into out and returns its length (0: no
// reply) and the lease event to persist. A non-nil error says why a message
// that looked like DHCP was not answered (malformed, not from the NIC,
// unknown type); messages RFC 2131 tells a server to ignore silently, such
// as a REQUEST selecting another server, return no reply and no error. The
// UDP checksum is not verified: with checksum offload the guest leaves it to
// the host.
func (s *Server) Handle(out, frame []byte) (int, Event, error) {
	var p packet.Parsed
	packet.Parse(frame, &p)
	if p.Reason != packet.ReasonNone || p.IPVersion != 4 || p.IPProto != packet.ProtoUDP ||
		p.DstPort != ServerPort || p.SrcMAC != s.cfg.MAC {
		return 0, Event{}, errNotDHCP
	}
	req, err := dhcpv4.FromBytes(packet.UDP(p.L4(frame)).Payload())
	if err != nil {
		return 0, Event{}, fmt.Errorf("dhcp4: decoding message: %w", err)
	}
	if req.OpCode != dhcpv4.OpcodeBootRequest || req.HWType != iana.HWTypeEthernet ||
		!bytes.Equal(req.ClientHWAddr, s.mac) {
		return 0, Event{}, fmt.Errorf("dhcp4: %s from chaddr %v (htype %d), serving %v only",
			req.MessageType(), req.ClientHWAddr, req.HWType, s.cfg.MAC)
	}
	if sid := req.ServerIdentifier(); sid != nil && !sid.Equal(s.gw) {
		// The client talks to (or chose) another server.
		return 0, Event{}, nil
	}
	switch t := req.MessageType(); t {
	case dhcpv4.MessageTypeDiscover:
		return s.reply(out, req, dhcpv4.MessageTypeOffer, lease.None)
	case dhcpv4.MessageTypeRequest:
		return s.request(out, req)
	case dhcpv4.MessageTypeInform:
		return s.reply(out, req, dhcpv4.MessageTypeAck, lease.None)
	case dhcpv4.MessageTypeRelease:
		if !req.ClientIPAddr.Equal(s.addr) {
			return 0, Event{}, fmt.Errorf("dhcp4: RELEASE of %v, the client's address is %v", req.ClientIPAddr, s.addr)
		}
		return 0, s.event(req, lease.Released), nil
	case dhcpv4.MessageTypeDecline:
		if !req.RequestedIPAddress().Equal(s.addr) {
			return 0, Event{}, fmt.Errorf("dhcp4: DECLINE of %v, the client's address is %v", req.RequestedIPAddress(), s.addr)
		}
		return 0, s.event(req, lease.Declined), nil
	default:
		return 0, Event{}, fmt.Errorf("dhcp4: unexpected message type %s", t)
	}
}

// request handles a DHCPREQUEST in each client state of RFC 2131 §4.3.2.
func (s *Server) request(out []byte, req *dhcpv4.DHCPv4) (int, Event, error) {
	requested := req.RequestedIPAddress()
	switch {
	case req.ServerIdentifier() != nil, requested != nil:
		// SELECTING (server identifier present) or INIT-REBOOT.
		if !requested.Equal(s.addr) {
			return s.reply(out, req, dhcpv4.MessageTypeNak, lease.None)
		}
		return s.reply(out, req, dhcpv4.MessageTypeAck, lease.Bound)
	case !req.ClientIPAddr.IsUnspecified():
		// RENEWING (unicast) or REBINDING (broadcast).
		if !req.ClientIPAddr.Equal(s.addr) {
			return s.reply(out, req, dhcpv4.MessageTypeNak, lease.None)
		}
		return s.reply(out, req, dhcpv4.MessageTypeAck, lease.Renewed)
	}
	return 0, Event{}, errors.New("dhcp4: REQUEST with neither server identifier, requested address nor ciaddr")
}

// event returns the lease event of kind k for req.
func (s *Server) event(req *dhcpv4.DHCPv4, k lease.Kind) Event {
	ev := Event{Kind: k, Addr: s.cfg.Addr, Hostname: req.HostName()}
	if id := req.Options.Get(dhcpv4.OptionClientIdentifier); len(id) > 0 {
		ev.ClientID = id
	} else {
		ev.ClientID = append([]byte{byte(req.HWType)}, req.ClientHWAddr...)
	}
	if k == lease.Bound || k == lease.Renewed {
		ev.LeaseTime = s.cfg.LeaseTime
	}
	return ev
}
