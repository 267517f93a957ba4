package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"mvirt-net/rpc/netpb"
)

// newNicSgCmd builds `mvirt nic sg` and its subcommands.
func newNicSgCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sg",
		Short: "Attach and detach a vNIC's security groups",
		Long: `Attach security groups to a vNIC or detach them; the rules of all of a
vNIC's groups add up. A change applies at once to new connections of the
running VM; tracked connections keep flowing.`,
	}
	cmd.AddCommand(newNicSgChangeCmd(a, true), newNicSgChangeCmd(a, false))
	return cmd
}

// newNicSgChangeCmd builds `mvirt nic sg attach` or `mvirt nic sg detach`.
func newNicSgChangeCmd(a *app, attach bool) *cobra.Command {
	verb, short := "detach", "Detach a security group from a vNIC"
	if attach {
		verb, short = "attach", "Attach a security group to a vNIC"
	}
	return &cobra.Command{
		Use:   verb + " NIC GROUP",
		Short: short,
		Long: fmt.Sprintf(`%s. Both are named by their UUID or their name. It says
whether anything changed: %sing twice is no error.`, short, verb),
		Example: fmt.Sprintf(`  mvirt nic sg %s vm1-eth0 web
  mvirt nic sg %s vm1-eth0 web -o json`, verb, verb),
		Args: cobra.ExactArgs(2),
		RunE: a.run(func(ctx context.Context, s *session, args []string) error {
			nic, group := args[0], args[1]
			if attach {
				resp, err := s.net.AttachSecurityGroup(ctx, &netpb.AttachSecurityGroupRequest{NicId: nic, SecurityGroupId: group})
				if err != nil {
					return err
				}
				return s.show(resp, func(w io.Writer) {
					changed(w, resp.GetAttached(), "Attached security group %q to vNIC %q", "was already attached to", nic, group)
				})
			}
			resp, err := s.net.DetachSecurityGroup(ctx, &netpb.DetachSecurityGroupRequest{NicId: nic, SecurityGroupId: group})
			if err != nil {
				return err
			}
			return s.show(resp, func(w io.Writer) {
				changed(w, resp.GetDetached(), "Detached security group %q from vNIC %q", "was not attached to", nic, group)
			})
		}),
	}
}

// changed says what an attach or detach did: done is the message of a
// change (group, then NIC), unchanged how the two already stood.
func changed(w io.Writer, did bool, done, unchanged, nic, group string) {
	if did {
		fmt.Fprintf(w, done+"\n", group, nic)
		return
	}
	fmt.Fprintf(w, "Security group %q %s vNIC %q: nothing changed\n", group, unchanged, nic)
}
