package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"mvirt-net/rpc/netpb"
)

// newNetworkCmd builds `mvirt network` and its subcommands.
func newNetworkCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "network",
		Aliases: []string{"net"},
		Short:   "Manage networks",
		Long: `A network is an isolated layer-3 routing domain: its vNICs reach each
other and nothing else. It has an IPv4 subnet, an IPv6 prefix or both, and
tells its VMs the DNS and NTP servers to use.`,
	}
	cmd.AddCommand(
		newNetworkCreateCmd(a),
		newNetworkGetCmd(a),
		newNetworkListCmd(a),
		newNetworkUpdateCmd(a),
		newNetworkDeleteCmd(a),
		newNetworkWatchCmd(a),
	)
	return cmd
}

// newNetworkGetCmd builds `mvirt network get`.
func newNetworkGetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "get NETWORK",
		Short: "Show one network",
		Long:  "Show one network, named by its UUID or its name.",
		Example: `  mvirt network get prod
  mvirt network get 0b7c6f1e-3c1a-4f5e-9d2a-6a8e4b1c2d3f -o json`,
		Args: cobra.ExactArgs(1),
		RunE: a.run(func(ctx context.Context, s *session, args []string) error {
			n, err := getNetwork(ctx, s.net, args[0])
			if err != nil {
				return err
			}
			return s.show(n, func(w io.Writer) { networkDetails(w, n) })
		}),
	}
}

// newNetworkListCmd builds `mvirt network list`.
func newNetworkListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List all networks",
		Example: `  mvirt network list
  mvirt network list -o json`,
		Args: cobra.NoArgs,
		RunE: a.run(func(ctx context.Context, s *session, _ []string) error {
			resp, err := s.net.ListNetworks(ctx, &netpb.ListNetworksRequest{})
			if err != nil {
				return err
			}
			return s.show(resp, func(w io.Writer) { networkTable(w, resp.GetNetworks()) })
		}),
	}
}

// newNetworkDeleteCmd builds `mvirt network delete`.
func newNetworkDeleteCmd(a *app) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "delete NETWORK",
		Aliases: []string{"rm"},
		Short:   "Delete a network",
		Long: `Delete a network, named by its UUID or its name. The daemon refuses while
the network has vNICs; --force deletes them too, closing their VMs'
connections.`,
		Example: `  mvirt network delete prod
  mvirt network delete prod --force`,
		Args: cobra.ExactArgs(1),
		RunE: a.run(func(ctx context.Context, s *session, args []string) error {
			n, err := getNetwork(ctx, s.net, args[0])
			if err != nil {
				return err
			}
			resp, err := s.net.DeleteNetwork(ctx, &netpb.DeleteNetworkRequest{Id: n.GetId(), Force: force})
			if err != nil {
				return err
			}
			if !resp.GetDeleted() {
				return fmt.Errorf("mvirt-net did not delete network %q", n.GetName())
			}
			return s.show(resp, func(w io.Writer) {
				fmt.Fprintf(w, "Deleted network %q (%s) and %d vNIC(s)\n", n.GetName(), n.GetId(), resp.GetNicsDeleted())
			})
		}),
	}
	cmd.Flags().BoolVar(&force, "force", false, "also delete the network's vNICs")
	return cmd
}
