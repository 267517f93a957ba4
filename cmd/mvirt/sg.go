package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"mvirt-net/rpc/netpb"
)

// newSgCmd builds `mvirt sg` and its subcommands.
func newSgCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "sg",
		Aliases: []string{"security-group"},
		Short:   "Manage security groups",
		Long: `A security group is a set of allow rules, a stateful firewall for the vNICs
it is attached to (mvirt nic sg attach). A vNIC without groups lets
everything through. With groups, traffic to the VM (ingress) passes only
when a rule of one of them allows it or when it belongs to a connection
the VM opened; traffic from the VM (egress) passes unless the groups hold
an egress rule, and then only what an egress rule allows (and replies to
connections allowed in). ARP, NDP, DHCP and Router Advertisements with the
gateway are never filtered.

Rule changes apply at once to new connections; connections already
tracked keep flowing.`,
	}
	cmd.AddCommand(newSgCreateCmd(a), newSgGetCmd(a), newSgListCmd(a), newSgDeleteCmd(a), newSgRuleCmd(a))
	return cmd
}

// getGroup fetches the security group that ref names, by UUID or by name.
func getGroup(ctx context.Context, c netpb.NetServiceClient, ref string) (*netpb.SecurityGroup, error) {
	req := &netpb.GetSecurityGroupRequest{Identifier: &netpb.GetSecurityGroupRequest_Name{Name: ref}}
	if isUUID(ref) {
		req.Identifier = &netpb.GetSecurityGroupRequest_Id{Id: ref}
	}
	return c.GetSecurityGroup(ctx, req)
}

// newSgCreateCmd builds `mvirt sg create`.
func newSgCreateCmd(a *app) *cobra.Command {
	req := &netpb.CreateSecurityGroupRequest{}
	cmd := &cobra.Command{
		Use:   "create --name NAME [--description TEXT]",
		Short: "Create an empty security group",
		Long: `Create a security group without rules. Attached to a vNIC as it is, it
refuses every new connection to the VM and lets the VM reach out.`,
		Example: `  mvirt sg create --name web --description "public web servers"`,
		Args:    cobra.NoArgs,
		RunE: a.run(func(ctx context.Context, s *session, _ []string) error {
			g, err := s.net.CreateSecurityGroup(ctx, req)
			if err != nil {
				return err
			}
			return s.show(g, func(w io.Writer) { groupDetails(w, g) })
		}),
	}
	cmd.Flags().StringVar(&req.Name, "name", "", "name of the group, unique (required)")
	cmd.Flags().StringVar(&req.Description, "description", "", "what the group is for")
	mustMark(cmd.MarkFlagRequired("name"))
	return cmd
}

// newSgGetCmd builds `mvirt sg get`.
func newSgGetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "get GROUP",
		Short: "Show one security group and its rules",
		Long:  "Show one security group, named by its UUID or its name, with its rules and how many vNICs it is attached to.",
		Example: `  mvirt sg get web
  mvirt sg get web -o json`,
		Args: cobra.ExactArgs(1),
		RunE: a.run(func(ctx context.Context, s *session, args []string) error {
			g, err := getGroup(ctx, s.net, args[0])
			if err != nil {
				return err
			}
			return s.show(g, func(w io.Writer) { groupDetails(w, g) })
		}),
	}
}

// newSgListCmd builds `mvirt sg list`.
func newSgListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List security groups",
		Long:    "List every security group with its number of rules and of attached vNICs.",
		Example: `  mvirt sg list
  mvirt sg list -o json`,
		Args: cobra.NoArgs,
		RunE: a.run(func(ctx context.Context, s *session, _ []string) error {
			resp, err := s.net.ListSecurityGroups(ctx, &netpb.ListSecurityGroupsRequest{})
			if err != nil {
				return err
			}
			return s.show(resp, func(w io.Writer) { groupTable(w, resp.GetSecurityGroups()) })
		}),
	}
}

// newSgDeleteCmd builds `mvirt sg delete`.
func newSgDeleteCmd(a *app) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "delete GROUP [--force]",
		Aliases: []string{"rm"},
		Short:   "Delete a security group",
		Long: `Delete a security group, named by its UUID or its name. A group attached
to vNICs is only deleted with --force, which detaches it from them first.`,
		Example: `  mvirt sg delete web
  mvirt sg delete web --force`,
		Args: cobra.ExactArgs(1),
		RunE: a.run(func(ctx context.Context, s *session, args []string) error {
			g, err := getGroup(ctx, s.net, args[0])
			if err != nil {
				return err
			}
			resp, err := s.net.DeleteSecurityGroup(ctx, &netpb.DeleteSecurityGroupRequest{Id: g.GetId(), Force: force})
			if err != nil {
				return err
			}
			if !resp.GetDeleted() {
				return fmt.Errorf("mvirt-net did not delete security group %q", g.GetName())
			}
			return s.show(resp, func(w io.Writer) {
				fmt.Fprintf(w, "Deleted security group %q (%s), detached from %d vNIC(s)\n", g.GetName(), g.GetId(), resp.GetNicsDetached())
			})
		}),
	}
	cmd.Flags().BoolVar(&force, "force", false, "detach the group from its vNICs and delete it")
	return cmd
}
