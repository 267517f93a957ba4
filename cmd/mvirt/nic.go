package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"mvirt-net/rpc/netpb"
)

// newNicCmd builds `mvirt nic` and its subcommands.
func newNicCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "nic",
		Short: "Manage vNICs",
		Long: `A vNIC connects one VM to a network. It has a MAC address, one IPv4 /32
and one IPv6 /128 from its network (the VM learns them by DHCP), optional
routed prefixes, and a vhost-user socket that the VMM connects to.

vNIC names are unique within a network; two networks may each have a vNIC
of the same name. A name that several vNICs share is refused by every
command until --network says which network is meant.`,
	}
	cmd.AddCommand(
		newNicCreateCmd(a),
		newNicGetCmd(a),
		newNicListCmd(a),
		newNicUpdateCmd(a),
		newNicDeleteCmd(a),
		newNicAttachCmd(a),
		newNicWatchCmd(a),
		newNicSgCmd(a),
	)
	return cmd
}

// newNicGetCmd builds `mvirt nic get`.
func newNicGetCmd(a *app) *cobra.Command {
	var network string
	cmd := &cobra.Command{
		Use:   "get NIC [--network NETWORK]",
		Short: "Show one vNIC",
		Long: `Show one vNIC, named by its UUID or its name, with its addresses and socket.
A name that vNICs of several networks share is refused, naming their
UUIDs; --network narrows the lookup to one network.`,
		Example: `  mvirt nic get vm1-eth0
  mvirt nic get vm1-nic --network prod
  mvirt nic get 5f0e2a9c-8d41-4b6e-a1f3-2c7d9e8b4a10 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: a.run(func(ctx context.Context, s *session, args []string) error {
			n, err := getNic(ctx, s.net, args[0], network)
			if err != nil {
				return err
			}
			return s.show(n, func(w io.Writer) { nicDetails(w, n) })
		}),
	}
	networkFlag(cmd.Flags(), &network)
	return cmd
}

// networkFlag adds --network, which narrows a vNIC name to one network.
func networkFlag(f *pflag.FlagSet, network *string) {
	f.StringVar(network, "network", "", "look the vNIC's name up in this network only (UUID or name)")
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
	var network string
	cmd := &cobra.Command{
		Use:     "delete NIC",
		Aliases: []string{"rm"},
		Short:   "Delete a vNIC",
		Long: `Delete a vNIC, named by its UUID or its name: its VM's connection is
closed, its socket removed and its addresses freed.`,
		Example: `  mvirt nic delete vm1-eth0
  mvirt nic delete vm1-nic --network prod`,
		Args: cobra.ExactArgs(1),
		RunE: a.run(func(ctx context.Context, s *session, args []string) error {
			n, err := getNic(ctx, s.net, args[0], network)
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
	networkFlag(cmd.Flags(), &network)
	return cmd
}
