package main

import (
	"context"

	"github.com/google/uuid"

	"mvirt-net/rpc/netpb"
)

// isUUID reports whether ref is a UUID in its canonical 36-character form;
// anything else names a network or NIC by its name.
func isUUID(ref string) bool {
	return len(ref) == 36 && uuid.Validate(ref) == nil
}

// getNetwork fetches the network that ref names, by UUID or by name.
func getNetwork(ctx context.Context, c netpb.NetServiceClient, ref string) (*netpb.Network, error) {
	req := &netpb.GetNetworkRequest{Identifier: &netpb.GetNetworkRequest_Name{Name: ref}}
	if isUUID(ref) {
		req.Identifier = &netpb.GetNetworkRequest_Id{Id: ref}
	}
	return c.GetNetwork(ctx, req)
}

// getNic fetches the NIC that ref names, by UUID or by name, within the
// network named by network if that is not empty (NIC names are unique
// within a network only).
func getNic(ctx context.Context, c netpb.NetServiceClient, ref, network string) (*netpb.Nic, error) {
	req := &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Name{Name: ref}, NetworkId: network}
	if isUUID(ref) {
		req.Identifier = &netpb.GetNicRequest_Id{Id: ref}
	}
	return c.GetNic(ctx, req)
}
