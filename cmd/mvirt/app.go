package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"mvirt-net/rpc/netpb"
)

// app holds the global flags every command shares.
type app struct {
	server  string
	output  string
	timeout time.Duration
}

// session is what an action needs for one command: the daemon's client and
// the printer of its answer.
type session struct {
	net netpb.NetServiceClient
	printer
}

// action is the body of a command that talks to the daemon. It returns
// the daemon's errors as they are; run turns them into messages.
type action func(ctx context.Context, s *session, args []string) error

// validate checks the global flags once they are parsed.
func (a *app) validate() error {
	if a.output != outputTable && a.output != outputJSON {
		return usageErrorf("invalid --output %q: want %s or %s", a.output, outputTable, outputJSON)
	}
	if a.timeout <= 0 {
		return usageErrorf("invalid --timeout %s: must be positive", a.timeout)
	}
	return nil
}

// run adapts fn to a cobra command: it connects to the daemon, bounds the
// command by --timeout and marks every error that is not a usage error as a
// failed operation.
func (a *app) run(fn action) func(*cobra.Command, []string) error {
	return a.connect(fn, true)
}

// runUnbounded is run without --timeout, for commands that last until the
// daemon or the user ends them.
func (a *app) runUnbounded(fn action) func(*cobra.Command, []string) error {
	return a.connect(fn, false)
}

func (a *app) connect(fn action, bounded bool) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		conn, err := grpc.NewClient(a.server, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return usageErrorf("invalid --server %q: %w", a.server, err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
		if !bounded {
			// An unbounded command ends on Ctrl-C or SIGTERM, as a success.
			cancel()
			ctx, cancel = signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		}
		defer cancel()
		s := &session{
			net:     netpb.NewNetServiceClient(conn),
			printer: printer{out: cmd.OutOrStdout(), json: a.output == outputJSON},
		}
		if err := fn(ctx, s, args); err != nil {
			return a.failed(err)
		}
		return nil
	}
}

// failed classifies an error of an action, keeping usage errors apart.
func (a *app) failed(err error) error {
	if isUsage(err) {
		return err
	}
	return failure{msg: describe(err, a.server, a.timeout), err: err}
}
