package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"mvirt-net/rpc/netpb"
)

// newNetworkCreateCmd builds `mvirt network create`.
func newNetworkCreateCmd(a *app) *cobra.Command {
	req := &netpb.CreateNetworkRequest{}
	cmd := &cobra.Command{
		Use:   "create --name NAME [--ipv4-subnet CIDR] [--ipv6-prefix CIDR] [--mtu N]",
		Short: "Create a network",
		Long: `Create a network. Give an IPv4 subnet, an IPv6 prefix or both: each one
given enables that address family. vNICs get the lowest free address of
each enabled family; the network and broadcast addresses of the IPv4
subnet are never handed out.

--dns and --ntp take several servers, repeated or comma-separated.
--public connects the network to the host's kernel through mvirt-net's
uplink, a TUN interface (mvirt0 unless mvirt-net was given --uplink-name)
that exists while a public network does. mvirt-net routes the network's
subnet, prefix and its vNICs' routed prefixes to it in the host's routing
table and sends every destination outside the network there; the host's
kernel routes on, which needs IP forwarding on the host
(mvirt-net --uplink-forwarding sets it) and either an upstream router that
routes the subnet to the host or mvirt-net --uplink-masquerade IFACE (NAT
behind IFACE's address). Public networks must not overlap. If the host
gives mvirt-net no uplink (no /dev/net/tun, no CAP_NET_ADMIN) the create
fails with FailedPrecondition and nothing changes. --id gives the network
a UUID of the caller's choosing (one in use is refused); without it the
daemon makes one.

--mtu sets the network's IP MTU (default 1500): VMs learn it from DHCPv4
(option 26) and Router Advertisements, and mvirt-net answers larger
packets with fragmentation needed / packet too big. It ranges from 1280
to 9000, from 576 on a network without IPv6. Packets of a public network
that leave through the uplink are limited by the uplink's MTU too
(mvirt-net --uplink-mtu).`,
		Example: `  # dual-stack
  mvirt network create --name prod --ipv4-subnet 10.0.0.0/24 --ipv6-prefix fd00::/64 \
      --dns 1.1.1.1 --dns 2606:4700:4700::1111

  # jumbo frames between the VMs
  mvirt network create --name storage --ipv4-subnet 10.1.0.0/24 --mtu 9000

  # IPv4 only, with internet access
  mvirt network create --name edge --ipv4-subnet 192.168.100.0/24 --public \
      --dns 1.1.1.1,9.9.9.9 --ntp 162.159.200.1`,
		Args: cobra.NoArgs,
		RunE: a.run(func(ctx context.Context, s *session, _ []string) error {
			req.Ipv4Enabled = req.GetIpv4Subnet() != ""
			req.Ipv6Enabled = req.GetIpv6Prefix() != ""
			n, err := s.net.CreateNetwork(ctx, req)
			if err != nil {
				return err
			}
			return s.show(n, func(w io.Writer) { networkDetails(w, n) })
		}),
	}
	f := cmd.Flags()
	f.StringVar(&req.Name, "name", "", "unique name of the network (required)")
	f.StringVar(&req.Id, "id", "", "UUID to give the network (default: generated)")
	f.StringVar(&req.Ipv4Subnet, "ipv4-subnet", "", "IPv4 subnet in CIDR notation, e.g. 10.0.0.0/24")
	f.StringVar(&req.Ipv6Prefix, "ipv6-prefix", "", "IPv6 prefix in CIDR notation, e.g. fd00::/64")
	f.StringSliceVar(&req.DnsServers, "dns", nil, "DNS server to announce (repeatable, comma-separated)")
	f.StringSliceVar(&req.NtpServers, "ntp", nil, "NTP server to announce (repeatable, comma-separated)")
	f.Uint32Var(&req.Mtu, "mtu", 0, "IP MTU of the network, 1280-9000 (576-9000 without IPv6) (default 1500)")
	f.BoolVar(&req.IsPublic, "public", false, "route the network through the host's kernel (mvirt-net's uplink) for access beyond the host")
	mustMark(cmd.MarkFlagRequired("name"))
	cmd.MarkFlagsOneRequired("ipv4-subnet", "ipv6-prefix")
	return cmd
}
