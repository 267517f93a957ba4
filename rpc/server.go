// Package rpc serves mvirt.net.NetService over gRPC. Handlers only turn
// requests into actor requests and answers into responses; the actors own
// every decision. The server also registers gRPC reflection and the
// standard health service.
package rpc

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"mvirt-net/actors"
	"mvirt-net/rpc/netpb"
)

// Version is the daemon's version, reported by GetVersion.
var Version = "0.1.0-dev"

// Actors is the actor tree as the server uses it: requests with one answer,
// and watches.
type Actors interface {
	// Ask sends a request into the actor tree and waits for its answer.
	Ask(ctx context.Context, msg any) (any, error)
	// WatchNics and WatchNetworks begin a watch (see actors.Watch).
	WatchNics(ctx context.Context) (*actors.NicWatch, error)
	WatchNetworks(ctx context.Context) (*actors.NetworkWatch, error)
}

// Server implements netpb.NetServiceServer over an actor tree.
type Server struct {
	netpb.UnimplementedNetServiceServer
	actors Actors
}

// NewGRPCServer builds a gRPC server with NetService, health (SERVING) and
// reflection registered, and the given interceptors. A request whose bytes
// do not decode answers InvalidArgument, on every service.
func NewGRPCServer(actors Actors, metrics *Metrics) (*grpc.Server, *health.Server) {
	gs := grpc.NewServer(grpc.ForceServerCodecV2(newCodec()), grpc.ChainUnaryInterceptor(metrics.unaryInterceptor))
	reg := guardedServer{gs}
	netpb.RegisterNetServiceServer(reg, &Server{actors: actors})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(reg, hs)
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(netpb.NetService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	reflection.Register(reg)
	return gs, hs
}

// ask forwards req and checks the answer's type.
func ask[T any](ctx context.Context, s *Server, req any) (T, error) {
	var zero T
	res, err := s.actors.Ask(ctx, req)
	if err != nil {
		return zero, err
	}
	out, ok := res.(T)
	if !ok {
		return zero, status.Error(codes.Internal, fmt.Sprintf("unexpected answer %T to %T", res, req))
	}
	return out, nil
}

// GetVersion reports the daemon's version.
func (s *Server) GetVersion(context.Context, *netpb.GetVersionRequest) (*netpb.VersionInfo, error) {
	return &netpb.VersionInfo{Version: Version}, nil
}

// CreateNetwork creates a network.
func (s *Server) CreateNetwork(ctx context.Context, req *netpb.CreateNetworkRequest) (*netpb.Network, error) {
	return ask[*netpb.Network](ctx, s, req)
}

// GetNetwork returns a network by id or name.
func (s *Server) GetNetwork(ctx context.Context, req *netpb.GetNetworkRequest) (*netpb.Network, error) {
	return ask[*netpb.Network](ctx, s, req)
}

// ListNetworks returns every network.
func (s *Server) ListNetworks(ctx context.Context, req *netpb.ListNetworksRequest) (*netpb.ListNetworksResponse, error) {
	return ask[*netpb.ListNetworksResponse](ctx, s, req)
}

// UpdateNetwork replaces a network's DNS and NTP servers.
func (s *Server) UpdateNetwork(ctx context.Context, req *netpb.UpdateNetworkRequest) (*netpb.Network, error) {
	return ask[*netpb.Network](ctx, s, req)
}

// DeleteNetwork deletes a network (and with force its NICs).
func (s *Server) DeleteNetwork(ctx context.Context, req *netpb.DeleteNetworkRequest) (*netpb.DeleteNetworkResponse, error) {
	return ask[*netpb.DeleteNetworkResponse](ctx, s, req)
}

// CreateNic creates a vNIC; its socket listens when this returns.
func (s *Server) CreateNic(ctx context.Context, req *netpb.CreateNicRequest) (*netpb.Nic, error) {
	return ask[*netpb.Nic](ctx, s, req)
}

// GetNic returns a vNIC by id or name.
func (s *Server) GetNic(ctx context.Context, req *netpb.GetNicRequest) (*netpb.Nic, error) {
	return ask[*netpb.Nic](ctx, s, req)
}

// ListNics returns the vNICs, optionally of one network.
func (s *Server) ListNics(ctx context.Context, req *netpb.ListNicsRequest) (*netpb.ListNicsResponse, error) {
	return ask[*netpb.ListNicsResponse](ctx, s, req)
}

// UpdateNic replaces a vNIC's routed prefixes.
func (s *Server) UpdateNic(ctx context.Context, req *netpb.UpdateNicRequest) (*netpb.Nic, error) {
	return ask[*netpb.Nic](ctx, s, req)
}

// DeleteNic deletes a vNIC, closing its VM connection and socket.
func (s *Server) DeleteNic(ctx context.Context, req *netpb.DeleteNicRequest) (*netpb.DeleteNicResponse, error) {
	return ask[*netpb.DeleteNicResponse](ctx, s, req)
}

// AttachNic tells the caller where its VMM connects the vNIC.
func (s *Server) AttachNic(ctx context.Context, req *netpb.AttachNicRequest) (*netpb.AttachNicResponse, error) {
	return ask[*netpb.AttachNicResponse](ctx, s, req)
}
