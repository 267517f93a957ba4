package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/rpc/netpb"
)

// receiveWatch begins and ends watches. A watch's snapshot is taken in the
// same step that subscribes it, from the directory every event also
// updates, so the snapshot and the events that follow have no gap and no
// duplicate.
func (m *manager) receiveWatch(ctx actor.Context, msg any) {
	switch msg := msg.(type) {
	case watchNics:
		if m.watches.closed {
			ctx.Respond(status.Error(codes.Unavailable, "mvirt-net is shutting down"))
			return
		}
		nics := m.listNics(&netpb.ListNicsRequest{}).(*netpb.ListNicsResponse).Nics
		msg.w.snapshot = make([]*netpb.NicEvent, len(nics))
		for i, v := range nics {
			msg.w.snapshot[i] = nicEvent(v.Id, v)
		}
		m.watches.nics.add(msg.w)
		ctx.Respond(ready{})
	case watchNetworks:
		if m.watches.closed {
			ctx.Respond(status.Error(codes.Unavailable, "mvirt-net is shutting down"))
			return
		}
		nets := m.listNetworks().(*netpb.ListNetworksResponse).Networks
		msg.w.snapshot = make([]*netpb.NetworkEvent, len(nets))
		for i, v := range nets {
			msg.w.snapshot[i] = networkEvent(v.Id, v)
		}
		m.watches.networks.add(msg.w)
		ctx.Respond(ready{})
	case unwatch:
		switch w := msg.w.(type) {
		case *NicWatch:
			m.watches.nics.remove(w)
		case *NetworkWatch:
			m.watches.networks.remove(w)
		}
	case endWatches:
		m.watches.closed = true
		m.watches.endAll(nil)
		ctx.Respond(ready{})
	}
}
