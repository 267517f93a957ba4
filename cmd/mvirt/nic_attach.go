package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"mvirt-net/rpc/netpb"
)

// newNicAttachCmd builds `mvirt nic attach`.
func newNicAttachCmd(a *app) *cobra.Command {
	var network string
	cmd := &cobra.Command{
		Use:   "attach NIC [--network NETWORK]",
		Short: "Show what a VMM connects a vNIC to",
		Long: `Ask the daemon how a VMM attaches a vNIC (named by its UUID or its name):
the answer names the vNIC's vhost-user socket and says whether a VMM is
connected now. Attaching changes nothing: a vNIC serves its socket from
its creation on.`,
		Example: `  mvirt nic attach vm1-nic
  mvirt nic attach vm1-nic --network prod -o json`,
		Args: cobra.ExactArgs(1),
		RunE: a.run(func(ctx context.Context, s *session, args []string) error {
			n, err := getNic(ctx, s.net, args[0], network)
			if err != nil {
				return err
			}
			resp, err := s.net.AttachNic(ctx, &netpb.AttachNicRequest{Id: n.GetId()})
			if err != nil {
				return err
			}
			if !resp.GetAttached() {
				return fmt.Errorf("mvirt-net did not attach vNIC %q: %s", nicLabel(n), resp.GetMessage())
			}
			return s.show(resp, func(w io.Writer) {
				row(w, "vNIC:", nicLabel(n)+" ("+n.GetId()+")")
				row(w, "Socket:", n.GetSocketPath())
				row(w, "Status:", resp.GetMessage())
			})
		}),
	}
	networkFlag(cmd.Flags(), &network)
	return cmd
}
