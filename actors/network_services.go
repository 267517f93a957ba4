package actors

import (
	"encoding/hex"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"mvirt-net/persistence"
	"mvirt-net/reactor"
)

// servicesFor is what the gateway offers the NIC of e: its addresses and
// prefixes, and the network's DNS and NTP servers and MTU.
func (n *network) servicesFor(e *nicEntry) reactor.Services {
	return reactor.Services{
		Routed4: e.rec.RoutedIPv4Prefixes, Routed6: e.rec.RoutedIPv6Prefixes,
		Gateway: gatewayConfig(e.rec),
		DNS:     n.rec.DNSServers, NTP: n.rec.NTPServers,
		MTU: uint16(n.rec.MTU),
	}
}

// gatewayConfig is the NIC as its gateway sees it.
func gatewayConfig(rec *persistence.NicRecord) reactor.GatewayConfig {
	cfg := reactor.GatewayConfig{IPv4: rec.IPv4Address, IPv6: rec.IPv6Address}
	copy(cfg.MAC[:], rec.MAC)
	return cfg
}

// nicSpec is the NIC's data-plane port.
func nicSpec(rec *persistence.NicRecord, socketGroup int) reactor.NICSpec {
	return reactor.NICSpec{ID: rec.ID, MAC: gatewayConfig(rec).MAC, SocketPath: rec.SocketPath, SocketGroup: socketGroup}
}

// pushServices sends every NIC (or just e) its current services and runs
// then once every running reactor answers with them (a NIC without a
// NicActor, see loadNic, gets them when the daemon next starts it), so that an RPC that
// changed them answers only when the next DHCP reply or RA carries them.
func (n *network) pushServices(ctx actor.Context, only *nicEntry, then func()) {
	var futures []*actor.Future
	for _, e := range n.nics {
		if (only == nil || e == only) && e.pid != nil {
			futures = append(futures, ctx.RequestFuture(e.pid, nicServices{svc: n.servicesFor(e)}, DefaultRequestTimeout))
		}
	}
	afterAll(ctx, futures, then)
}

// recordLease persists a NIC's DHCP lease change.
func (n *network) recordLease(msg nicLease) {
	e := n.nics[msg.id]
	if e == nil || !e.stored {
		return
	}
	l := msg.lease
	rec := *e.rec
	rec.Lease = &persistence.Lease{State: l.Kind.String(), Hostname: l.Hostname, UpdatedAt: time.Now().UTC()}
	if l.IPv6 {
		rec.Lease.DUID = hex.EncodeToString(l.ClientID)
	} else {
		rec.Lease.ClientID = hex.EncodeToString(l.ClientID)
	}
	if err := n.Store.PutNic(&rec, e.rec); err != nil {
		n.Log.Error("store lease", "nic", msg.id, "err", err)
		return
	}
	e.rec = &rec
	n.Log.Info("dhcp lease", "nic", msg.id, "ipv6", l.IPv6, "event", l.Kind.String(), "addr", l.Addr, "hostname", l.Hostname)
}
