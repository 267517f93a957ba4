package rpc

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/actors"
	"mvirt-net/rpc/netpb"
)

// WatchNics streams the current state of every vNIC, then every change.
func (s *Server) WatchNics(_ *netpb.WatchNicsRequest, stream grpc.ServerStreamingServer[netpb.NicEvent]) error {
	w, err := s.actors.WatchNics(stream.Context())
	if err != nil {
		return err
	}
	return serveWatch(stream, w)
}

// WatchNetworks streams the current state of every network, then every
// change.
func (s *Server) WatchNetworks(_ *netpb.WatchNetworksRequest, stream grpc.ServerStreamingServer[netpb.NetworkEvent]) error {
	w, err := s.actors.WatchNetworks(stream.Context())
	if err != nil {
		return err
	}
	return serveWatch(stream, w)
}

// serveWatch sends a watch's snapshot and events until the client leaves
// or the watch ends: OK when the daemon stops gracefully, the watch's
// status otherwise.
func serveWatch[E any](stream grpc.ServerStreamingServer[E], w *actors.Watch[*E]) error {
	defer w.Close()
	for _, ev := range w.Snapshot() {
		if err := stream.Send(ev); err != nil {
			return err
		}
	}
	ctx := stream.Context()
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return w.Err()
			}
			if err := stream.Send(ev); err != nil {
				return err
			}
		case <-ctx.Done():
			return contextStatus(ctx)
		}
	}
}

func contextStatus(ctx context.Context) error {
	if ctx.Err() == context.DeadlineExceeded {
		return status.Error(codes.DeadlineExceeded, "the watch reached its deadline")
	}
	return status.Error(codes.Canceled, "the client ended the watch")
}
