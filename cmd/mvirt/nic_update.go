package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"mvirt-net/rpc/netpb"
)

// newNicUpdateCmd builds `mvirt nic update`.
func newNicUpdateCmd(a *app) *cobra.Command {
	var (
		routes      []string
		clearRoutes bool
		network     string
	)
	cmd := &cobra.Command{
		Use:   "update NIC (--route CIDR... | --clear-routes)",
		Short: "Replace the routed prefixes of a vNIC",
		Long: `Replace the prefixes routed to a vNIC (named by its UUID or its name;
--network narrows a name to one network).
The prefixes given with --route, IPv4 and IPv6 alike, become the vNIC's
whole set: a prefix left out is no longer routed. --clear-routes removes
them all.`,
		Example: `  mvirt nic update router-eth0 --route 10.1.0.0/24 --route fd00:1::/64
  mvirt nic update router-eth0 --clear-routes`,
		Args: cobra.ExactArgs(1),
		RunE: a.run(func(ctx context.Context, s *session, args []string) error {
			v4, v6, err := splitRoutes(routes)
			if err != nil {
				return err
			}
			n, err := getNic(ctx, s.net, args[0], network)
			if err != nil {
				return err
			}
			n, err = s.net.UpdateNic(ctx, &netpb.UpdateNicRequest{
				Id:                 n.GetId(),
				RoutedIpv4Prefixes: v4,
				RoutedIpv6Prefixes: v6,
			})
			if err != nil {
				return err
			}
			return s.show(n, func(w io.Writer) { nicDetails(w, n) })
		}),
	}
	f := cmd.Flags()
	f.StringArrayVar(&routes, "route", nil, "CIDR prefix to route to the vNIC (repeatable)")
	f.BoolVar(&clearRoutes, "clear-routes", false, "route no prefixes to the vNIC")
	networkFlag(f, &network)
	cmd.MarkFlagsOneRequired("route", "clear-routes")
	cmd.MarkFlagsMutuallyExclusive("route", "clear-routes")
	return cmd
}
