package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"mvirt-net/rpc/netpb"
)

// watchLong is the part of both watch commands' help that they share.
const watchLong = `
The stream starts with one line per existing object (ADDED), then prints
one line per change as it happens: ADDED for a new one, UPDATED for a
change (including a vNIC's state: created, active as a VMM connects,
error), DELETED when it is gone. With -o json each event is one JSON
object per line, the API's message; a deleted object's payload is null.

The command runs until interrupted (Ctrl-C, exit 0) or until the daemon
ends the stream: exit 0 when the daemon stops gracefully, 1 with the
daemon's message otherwise (for instance a watcher that fell too far
behind). --timeout does not apply.`

// jsonLine writes an event as one line of JSON.
var jsonLine = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}

// newNicWatchCmd builds `mvirt nic watch`.
func newNicWatchCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "watch",
		Short: "Print every vNIC, then every change to them",
		Long:  "Watch the vNICs of every network." + watchLong,
		Example: `  mvirt nic watch
  mvirt nic watch -o json`,
		Args: cobra.NoArgs,
		RunE: a.runUnbounded(func(ctx context.Context, s *session, _ []string) error {
			stream, err := s.net.WatchNics(ctx, &netpb.WatchNicsRequest{})
			if err != nil {
				return err
			}
			return watch(ctx, s.printer, stream.Recv,
				"TIME\tEVENT\tID\tNAME\tNETWORK\tSTATE\tIPV4\tIPV6",
				func(ev *netpb.NicEvent) (string, []string) {
					n := ev.GetNic()
					return ev.GetNicId(), []string{orDash(n.GetName()), orDash(n.GetNetworkId()), nicWatchState(n),
						orDash(n.GetIpv4Address()), orDash(n.GetIpv6Address())}
				},
				func(ev *netpb.NicEvent) (int64, bool) { return ev.GetTimestamp(), ev.Nic == nil })
		}),
	}
}

// newNetworkWatchCmd builds `mvirt network watch`.
func newNetworkWatchCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "watch",
		Short: "Print every network, then every change to them",
		Long:  "Watch the networks." + watchLong,
		Example: `  mvirt network watch
  mvirt network watch -o json`,
		Args: cobra.NoArgs,
		RunE: a.runUnbounded(func(ctx context.Context, s *session, _ []string) error {
			stream, err := s.net.WatchNetworks(ctx, &netpb.WatchNetworksRequest{})
			if err != nil {
				return err
			}
			return watch(ctx, s.printer, stream.Recv,
				"TIME\tEVENT\tID\tNAME\tIPV4 SUBNET\tIPV6 PREFIX\tDNS",
				func(ev *netpb.NetworkEvent) (string, []string) {
					n := ev.GetNetwork()
					return ev.GetNetworkId(), []string{orDash(n.GetName()), orDash(n.GetIpv4Subnet()),
						orDash(n.GetIpv6Prefix()), list(n.GetDnsServers())}
				},
				func(ev *netpb.NetworkEvent) (int64, bool) { return ev.GetTimestamp(), ev.Network == nil })
		}),
	}
}

func nicWatchState(n *netpb.Nic) string {
	if n == nil {
		return "-"
	}
	return nicState(n.GetState())
}

// watch prints the events recv returns until the stream ends or the user
// interrupts it (which cancels ctx, the stream's context). cells gives an event's object id and its table cells,
// meta its timestamp and whether it is a deletion.
func watch[E proto.Message](ctx context.Context, p printer, recv func() (E, error), header string,
	cells func(E) (string, []string), meta func(E) (int64, bool)) error {
	tw := newLineWriter(p.out)
	if !p.json {
		if err := tw.line(header); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for {
		ev, err := recv()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil && ctx.Err() != nil && status.Code(err) == codes.Canceled:
			return nil
		case err != nil:
			return err
		}
		if p.json {
			b, err := jsonLine.Marshal(ev)
			if err != nil {
				return fmt.Errorf("encode event as JSON: %w", err)
			}
			if _, err := p.out.Write(append(b, '\n')); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
			continue
		}
		id, rest := cells(ev)
		ts, deleted := meta(ev)
		kind := "UPDATED"
		switch {
		case deleted:
			kind = "DELETED"
			delete(seen, id)
		case !seen[id]:
			kind = "ADDED"
			seen[id] = true
		}
		when := time.Unix(ts, 0).UTC().Format(time.RFC3339)
		if err := tw.line(strings.Join(append([]string{when, kind, id}, rest...), "\t")); err != nil {
			return err
		}
	}
}
