package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
)

const (
	defaultServer = "[::1]:50054"
	serverEnv     = "MVIRT_NET_SERVER"
)

// execute runs the command line args and returns the process exit status:
// 0 on success, 1 when an operation failed, 2 when the command line was
// rejected before the daemon was asked anything.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "Error: %v\n", err)
	code := exitCode(err)
	if code == exitUsage {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// newRootCmd builds the whole command tree with its global flags.
func newRootCmd() *cobra.Command {
	a := &app{}
	root := &cobra.Command{
		Use:   "mvirt",
		Short: "Manage the networks, vNICs and security groups of mvirt-net",
		Long: `mvirt talks to the mvirt-net daemon over gRPC. A network is an isolated
layer-3 routing domain with an IPv4 subnet, an IPv6 prefix or both; a vNIC
connects one VM to a network through a vhost-user socket and gets its
addresses from the network. A security group is a stateful firewall of
allow rules for the vNICs it is attached to.

Networks, vNICs and security groups are named by their UUID or by their name.

Exit status: 0 on success, 1 when the daemon refused or failed the
operation (or could not be reached), 2 for a malformed command line.`,
		Example: `  mvirt network create --name prod --ipv4-subnet 10.0.0.0/24 --ipv6-prefix fd00::/64 --dns 1.1.1.1
  mvirt nic create --network prod --name vm1-eth0
  mvirt nic list --network prod -o json`,
		SilenceErrors:     true,
		SilenceUsage:      true,
		PersistentPreRunE: func(*cobra.Command, []string) error { return a.validate() },
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	server := defaultServer
	if env := os.Getenv(serverEnv); env != "" {
		server = env
	}
	flags := root.PersistentFlags()
	flags.StringVar(&a.server, "server", server, "address of the mvirt-net daemon (env "+serverEnv+")")
	flags.StringVarP(&a.output, "output", "o", outputTable, "output format: table or json")
	flags.DurationVar(&a.timeout, "timeout", 10*time.Second, "how long to wait for the daemon's answer")

	root.AddCommand(newVersionCmd(a), newNetworkCmd(a), newNicCmd(a), newSgCmd(a))
	return root
}

// mustMark panics when marking a flag failed, which only happens for a flag
// that was never defined: a mistake in this program, not in its input.
func mustMark(err error) {
	if err != nil {
		panic(err)
	}
}
