package dhcp6

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/insomniacslk/dhcp/rfc1035label"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"

	"mvirt-net/reactor/lease"
)

// UDP ports of DHCPv6.
const (
	ServerPort = 547
	ClientPort = 546
)

// errNotDHCP means the frame is not a DHCPv6 client message to this server.
var errNotDHCP = errors.New("not a DHCPv6 message from the NIC to port 547 of ff02::1:2 or fe80::1")

// ServerDUID returns the server's DUID: a DUID-LL of the gateway's MAC, the
// same on every host and across restarts.
func ServerDUID() dhcpv6.DUID {
	return &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr(gateway.MAC[:])}
}

// Server answers the DHCPv6 client of one NIC. It is immutable and safe for
// concurrent use; a new configuration means a new Server.
type Server struct {
	cfg       Config
	duid      dhcpv6.DUID
	addr      net.IP
	preferred time.Duration
	valid     time.Duration
	info      []dhcpv6.Option // DNS, domain search, NTP: in every reply
	sntp      dhcpv6.Option   // to clients that request option 31, or nil
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, duid: ServerDUID(), addr: net.IP(cfg.Addr.AsSlice())}
	s.preferred, s.valid = cfg.lifetimes()
	var dns, ntp []net.IP
	for _, a := range cfg.DNS {
		if a.Is6() && !a.Is4In6() {
			dns = append(dns, net.IP(a.AsSlice()))
		}
	}
	for _, a := range cfg.NTP {
		if a.Is6() && !a.Is4In6() {
			ntp = append(ntp, net.IP(a.AsSlice()))
		}
	}
	if len(dns) > 0 {
		s.info = append(s.info, dhcpv6.OptDNS(dns...))
	}
	if len(cfg.DomainSearch) > 0 {
		s.info = append(s.info, dhcpv6.OptDomainSearchList(&rfc1035label.Labels{Labels: cfg.DomainSearch}))
	}
	if len(ntp) > 0 {
		o := &dhcpv6.OptNTPServer{}
		for _, ip := range ntp {
			sub := dhcpv6.NTPSuboptionSrvAddr(ip)
			o.Suboptions.Add(&sub)
		}
		s.info = append(s.info, o)
		s.sntp = dhcpv6.OptSNTP(ntp...)
	}
	return s, nil
}

// Handle answers the DHCPv6 message in frame, an Ethernet frame from the
// NIC. It writes the reply frame into out and returns its length (0: no
// reply) and the binding event to persist. A non-nil error says why a
// message that looked like DHCPv6 was not answered (malformed, not from the
// NIC, breaking RFC 8415 §16); messages for another server are ignored
// without error. The UDP checksum is not verified: with checksum offload the
// guest leaves it to the host.
func (s *Server) Handle(out, frame []byte) (int, Event, error) {
	var p packet.Parsed
	packet.Parse(frame, &p)
	if p.Reason != packet.ReasonNone || p.IPVersion != 6 || p.IPProto != packet.ProtoUDP ||
		p.DstPort != ServerPort || p.SrcMAC != s.cfg.MAC ||
		p.Dst != gateway.AllDHCPAgents && !gateway.IsGatewayIPv6(p.Dst, p.Src) {
		return 0, Event{}, errNotDHCP
	}
	if p.Src.IsUnspecified() || p.Src.IsMulticast() {
		return 0, Event{}, fmt.Errorf("dhcp6: message from %v, which cannot be answered", p.Src)
	}
	req, err := dhcpv6.MessageFromBytes(packet.UDP(p.L4(frame)).Payload())
	if err != nil {
		return 0, Event{}, fmt.Errorf("dhcp6: decoding message: %w", err)
	}
	resp, ev, err := s.respond(req)
	if resp == nil {
		return 0, ev, err
	}
	n := packet.PutUDPFrame(out, &packet.UDPFrame{
		SrcMAC:  gateway.MAC,
		DstMAC:  s.cfg.MAC,
		Src:     gateway.IPv6,
		Dst:     p.Src,
		SrcPort: ServerPort,
		DstPort: ClientPort,
	}, resp.ToBytes())
	if n == 0 {
		return 0, Event{}, errors.New("dhcp6: reply does not fit the output buffer")
	}
	return n, ev, nil
}

// respond applies RFC 8415 §16 (validation) and §18.3 (server behaviour) to
// req. A nil reply with a nil error means "ignore silently".
func (s *Server) respond(req *dhcpv6.Message) (*dhcpv6.Message, Event, error) {
	t := req.MessageType
	cid := req.Options.ClientID()
	sid := req.Options.ServerID()
	if cid == nil && t != dhcpv6.MessageTypeInformationRequest {
		return nil, Event{}, fmt.Errorf("dhcp6: %s without client identifier", t)
	}
	switch t {
	case dhcpv6.MessageTypeSolicit, dhcpv6.MessageTypeConfirm, dhcpv6.MessageTypeRebind:
		if sid != nil {
			return nil, Event{}, fmt.Errorf("dhcp6: %s with server identifier", t)
		}
	case dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew, dhcpv6.MessageTypeRelease, dhcpv6.MessageTypeDecline:
		if sid == nil {
			return nil, Event{}, fmt.Errorf("dhcp6: %s without server identifier", t)
		}
	}
	if sid != nil && !sid.Equal(s.duid) {
		return nil, Event{}, nil
	}

	switch t {
	case dhcpv6.MessageTypeSolicit:
		if req.GetOneOption(dhcpv6.OptionRapidCommit) != nil {
			r := s.newReply(req, dhcpv6.MessageTypeReply)
			r.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit})
			return r, s.addIAs(r, req, lease.Bound), nil
		}
		r := s.newReply(req, dhcpv6.MessageTypeAdvertise)
		r.AddOption(dhcpv6.OptPreference(255))
		s.addIAs(r, req, lease.None)
		return r, Event{}, nil
	case dhcpv6.MessageTypeRequest:
		r := s.newReply(req, dhcpv6.MessageTypeReply)
		return r, s.addIAs(r, req, lease.Bound), nil
	case dhcpv6.MessageTypeRenew, dhcpv6.MessageTypeRebind:
		r := s.newReply(req, dhcpv6.MessageTypeReply)
		return r, s.addIAs(r, req, lease.Renewed), nil
	case dhcpv6.MessageTypeConfirm:
		return s.confirm(req)
	case dhcpv6.MessageTypeRelease, dhcpv6.MessageTypeDecline:
		r := s.newReply(req, dhcpv6.MessageTypeReply)
		r.AddOption(&dhcpv6.OptStatusCode{StatusCode: iana.StatusSuccess})
		kind := lease.Released
		if t == dhcpv6.MessageTypeDecline {
			kind = lease.Declined
		}
		ev := s.event(req, kind)
		if ia := req.Options.OneIANA(); ia != nil {
			ev.IAID = ia.IaId
		}
		return r, ev, nil
	case dhcpv6.MessageTypeInformationRequest:
		if len(req.Options.IANA()) > 0 || len(req.Options.IATA()) > 0 || len(req.Options.IAPD()) > 0 {
			return nil, Event{}, errors.New("dhcp6: Information-request with IA options")
		}
		return s.newReply(req, dhcpv6.MessageTypeReply), Event{}, nil
	}
	return nil, Event{}, fmt.Errorf("dhcp6: unexpected message type %s", t)
}

// confirm answers whether the addresses the client has are still on link
// (RFC 8415 §18.3.3); with no address to judge there is no reply.
func (s *Server) confirm(req *dhcpv6.Message) (*dhcpv6.Message, Event, error) {
	seen, ours := 0, true
	for _, ia := range req.Options.IANA() {
		for _, a := range ia.Options.Addresses() {
			seen++
			ours = ours && a.IPv6Addr.Equal(s.addr)
		}
	}
	if seen == 0 {
		return nil, Event{}, nil
	}
	r := s.newReply(req, dhcpv6.MessageTypeReply)
	if ours {
		r.AddOption(&dhcpv6.OptStatusCode{StatusCode: iana.StatusSuccess, StatusMessage: "on link"})
	} else {
		r.AddOption(&dhcpv6.OptStatusCode{StatusCode: iana.StatusNotOnLink, StatusMessage: "not the client's address"})
	}
	return r, Event{}, nil
}

// newReply starts a reply of type t to req: server and client identifiers
// and the configuration options.
func (s *Server) newReply(req *dhcpv6.Message, t dhcpv6.MessageType) *dhcpv6.Message {
	r := &dhcpv6.Message{MessageType: t, TransactionID: req.TransactionID}
	r.AddOption(dhcpv6.OptServerID(s.duid))
	if cid := req.GetOneOption(dhcpv6.OptionClientID); cid != nil {
		r.AddOption(cid)
	}
	for _, o := range s.info {
		r.AddOption(o)
	}
	if s.sntp != nil && req.IsOptionRequested(dhcpv6.OptionSNTPServerList) {
		r.AddOption(s.sntp)
	}
	return r
}

// addIAs answers the IAs of req in r: the NIC's address in the first IA_NA
// (addresses the client listed that are not its own, with lifetimes 0),
// NoAddrsAvail in the others, NoPrefixAvail in IA_PDs, and a NoAddrsAvail
// status if no IA_NA was asked for. It returns the event of kind k for the
// binding made, or no event if none was.
func (s *Server) addIAs(r, req *dhcpv6.Message, k lease.Kind) Event {
	var ev Event
	for i, ia := range req.Options.IANA() {
		resp := &dhcpv6.OptIANA{IaId: ia.IaId}
		if i > 0 {
			resp.Options.Add(&dhcpv6.OptStatusCode{StatusCode: iana.StatusNoAddrsAvail, StatusMessage: "one address per client"})
			r.AddOption(resp)
			continue
		}
		resp.T1, resp.T2 = s.preferred/2, s.preferred*4/5
		resp.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: s.addr, PreferredLifetime: s.preferred, ValidLifetime: s.valid})
		for _, a := range ia.Options.Addresses() {
			if !a.IPv6Addr.Equal(s.addr) {
				resp.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: a.IPv6Addr})
			}
		}
		r.AddOption(resp)
		if k != lease.None {
			ev = s.event(req, k)
			ev.IAID = ia.IaId
		}
	}
	for _, pd := range req.Options.IAPD() {
		resp := &dhcpv6.OptIAPD{IaId: pd.IaId}
		resp.Options.Add(&dhcpv6.OptStatusCode{StatusCode: iana.StatusNoPrefixAvail, StatusMessage: "no prefix delegation"})
		r.AddOption(resp)
	}
	if len(req.Options.IANA()) == 0 {
		r.AddOption(&dhcpv6.OptStatusCode{StatusCode: iana.StatusNoAddrsAvail, StatusMessage: "only IA_NA is served"})
	}
	return ev
}

// event returns the binding event of kind k for req.
func (s *Server) event(req *dhcpv6.Message, k lease.Kind) Event {
	ev := Event{Kind: k, Addr: s.cfg.Addr}
	if cid := req.Options.ClientID(); cid != nil {
		ev.ClientID = cid.ToBytes()
	}
	if f := req.Options.FQDN(); f != nil && f.DomainName != nil {
		ev.Hostname = strings.Join(f.DomainName.Labels, ".")
	}
	if k == lease.Bound || k == lease.Renewed {
		ev.ValidLifetime = s.valid
	}
	return ev
}
