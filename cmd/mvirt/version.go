package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"mvirt-net/rpc/netpb"
)

// newVersionCmd builds `mvirt version`.
func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Show the version of the mvirt-net daemon",
		Example: `  mvirt version
  mvirt version --server [::1]:50054 -o json`,
		Args: cobra.NoArgs,
		RunE: a.run(func(ctx context.Context, s *session, _ []string) error {
			v, err := s.net.GetVersion(ctx, &netpb.GetVersionRequest{})
			if err != nil {
				return err
			}
			return s.show(v, func(w io.Writer) {
				row(w, "Server version:", v.GetVersion())
			})
		}),
	}
}
