package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"mvirt-net/rpc/netpb"
)

// newNicCmd builds `mvirt nic` and its subcommands.
func newNicCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "nic",
		Short: "Manage vNICs",
		Long: `A vNIC connects one VM to a network. It has a MAC address, one IPv4 /32
and one IPv6 /128 from its network (the VM learns them by DHCP), optional
routed prefixes, and a vhost-user socket that the VMM connects to.`,
	}
	cmd.AddCommand(
		newNicCreateCmd(a),
		newNicGetCmd(a),
		newNicListCmd(a),
		newNicUpdateCmd(a),
		newNicDeleteCmd(a),
		newNicSgCmd(a),
	)
	return cmd
}

// newNicGetCmd builds `mvirt nic get`.
func newNicGetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "get NIC",
		Short: "Show one vNIC",
		Long:  "Show one vNIC, named by its UUID or its name, with its addresses and socket.",
		Example: `  mvirt nic get vm1-eth0
  mvirt nic get 5f0e2a9c-8d41-4b6e-a1f3-2c7d9e8b4a10 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: a.run(func(ctx context.Context, s *session, args []string) error {
			n, err := getNic(ctx, s.net, args[0])
			if err != nil {
				return err
			}
			return s.show(n, func(w io.Writer) { nicDetails(w, n) })
		}),
	}
}

// newNicListCmd builds `mvirt nic list`.
func newNicListCmd(a *app) *cobra.Command {
	req := &netpb.ListNicsRequest{}
	cmd := &cobra.Command{
		Use:     "list [--network NETWORK]",
		Aliases: []string{"ls"},
		Short:   "List vNICs",
		Long:    "List all vNICs, or those of one network (named by its UUID or its name).",
		Example: `  mvirt nic list
  mvirt nic list --network prod -o json`,
		Args: cobra.NoArgs,
		RunE: a.run(func(ctx context.Context, s *session, _ []string) error {
			resp, err := s.net.ListNics(ctx, req)
			if err != nil {
				return err
			}
			return s.show(resp, func(w io.Writer) { nicTable(w, resp.GetNics()) })
		}),
	}
	cmd.Flags().StringVar(&req.NetworkId, "network", "", "only the vNICs of this network (UUID or name)")
	return cmd
}

// newNicDeleteCmd builds `mvirt nic delete`.
func newNicDeleteCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NIC",
		Aliases: []string{"rm"},
		Short:   "Delete a vNIC",
		Long: `Delete a vNIC, named by its UUID or its name: its VM's connection is
closed, its socket removed and its addresses freed.`,
		Example: `  mvirt nic delete vm1-eth0`,
		Args:    cobra.ExactArgs(1),
		RunE: a.run(func(ctx context.Context, s *session, args []string) error {
			n, err := getNic(ctx, s.net, args[0])
			if err != nil {
				return err
			}
			resp, err := s.net.DeleteNic(ctx, &netpb.DeleteNicRequest{Id: n.GetId()})
			if err != nil {
				return err
			}
			if !resp.GetDeleted() {
				return fmt.Errorf("mvirt-net did not delete vNIC %q", nicLabel(n))
			}
			return s.show(resp, func(w io.Writer) {
				fmt.Fprintf(w, "Deleted vNIC %q (%s)\n", nicLabel(n), n.GetId())
			})
		}),
	}
}
