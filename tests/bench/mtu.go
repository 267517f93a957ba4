package bench

import (
	"context"
	"fmt"
	"slices"

	"mvirt-net/persistence"
	"mvirt-net/rpc/netpb"
)

// networkMTU is the MTU of the benchmark's network: the IP packet of the
// largest frame size measured, between the default and the largest MTU
// a network may have (frames above that are measured as dropped too_big).
func networkMTU(sizes []int) uint32 {
	mtu := slices.Max(sizes) - 14
	return uint32(min(max(mtu, persistence.DefaultMTU), persistence.MaxMTU))
}

// setMTU gives the network named name the MTU, keeping its servers.
func (o *ourDaemon) setMTU(name string, mtu uint32) error {
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	n, err := o.d.Client.GetNetwork(ctx, &netpb.GetNetworkRequest{Identifier: &netpb.GetNetworkRequest_Name{Name: name}})
	if err != nil {
		return fmt.Errorf("bench: get network %s: %w", name, err)
	}
	_, err = o.d.Client.UpdateNetwork(ctx, &netpb.UpdateNetworkRequest{
		Id: n.Id, DnsServers: n.DnsServers, NtpServers: n.NtpServers, Mtu: mtu,
	})
	if err != nil {
		return fmt.Errorf("bench: network %s mtu %d: %w", name, mtu, err)
	}
	return nil
}
