package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"mvirt-net/rpc/netpb"
)

// newNicCreateCmd builds `mvirt nic create`.
func newNicCreateCmd(a *app) *cobra.Command {
	req := &netpb.CreateNicRequest{}
	var routes []string
	cmd := &cobra.Command{
		Use:   "create --network NETWORK [--name NAME]",
		Short: "Create a vNIC in a network",
		Long: `Create a vNIC in a network (named by its UUID or its name) and print it,
with the vhost-user socket to hand to the VMM.

Without --ipv4 / --ipv6 the vNIC gets the lowest free address of each
address family of the network; without --mac a locally administered
unicast MAC. --route routes a prefix to the vNIC, for VMs that route
further (containers, nested VMs, VPN endpoints); repeat it for several.

The name must be unique within the network (another network may have a
vNIC of the same name). --id gives the vNIC a UUID of the caller's
choosing (one in use is refused); without it the daemon makes one.`,
		Example: `  mvirt nic create --network prod --name vm1-eth0

  # the caller chooses the UUID, as a control plane that reconciles does
  mvirt nic create --network prod --name vm1-nic --id 5f0e2a9c-8d41-4b6e-a1f3-2c7d9e8b4a10

  # fixed addresses, and two prefixes routed to the VM
  mvirt nic create --network prod --name router-eth0 --mac 52:54:00:12:34:56 \
      --ipv4 10.0.0.10 --ipv6 fd00::10 --route 10.1.0.0/24 --route fd00:1::/64`,
		Args: cobra.NoArgs,
		RunE: a.run(func(ctx context.Context, s *session, _ []string) error {
			v4, v6, err := splitRoutes(routes)
			if err != nil {
				return err
			}
			req.RoutedIpv4Prefixes, req.RoutedIpv6Prefixes = v4, v6
			n, err := s.net.CreateNic(ctx, req)
			if err != nil {
				return err
			}
			return s.show(n, func(w io.Writer) { nicDetails(w, n) })
		}),
	}
	f := cmd.Flags()
	f.StringVar(&req.NetworkId, "network", "", "network of the vNIC, UUID or name (required)")
	f.StringVar(&req.Name, "name", "", "name of the vNIC, unique within its network")
	f.StringVar(&req.Id, "id", "", "UUID to give the vNIC (default: generated)")
	f.StringVar(&req.MacAddress, "mac", "", "MAC address, e.g. 52:54:00:12:34:56 (default: generated)")
	f.StringVar(&req.Ipv4Address, "ipv4", "", "IPv4 address in the network's subnet (default: lowest free)")
	f.StringVar(&req.Ipv6Address, "ipv6", "", "IPv6 address in the network's prefix (default: lowest free)")
	f.StringArrayVar(&routes, "route", nil, "CIDR prefix to route to the vNIC (repeatable)")
	mustMark(cmd.MarkFlagRequired("network"))
	return cmd
}
