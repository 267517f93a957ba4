package actors

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/rpc/netpb"
)

// watchBuffer is how many events a watcher may fall behind the actors
// (beyond what its gRPC stream holds) before it is ended with
// ResourceExhausted. The actors never wait for a watcher.
const watchBuffer = 256

// Watch is one client's subscription to the NIC or network events: the
// state of every object when it began, then every change in the order the
// actors made them, with no gap and no duplicate between the two.
type Watch[E any] struct {
	snapshot []E
	events   chan E
	// err is why events was closed; written before the close.
	err   error
	owner *System
}

// NicWatch is a subscription to NIC events.
type NicWatch = Watch[*netpb.NicEvent]

// NetworkWatch is a subscription to network events.
type NetworkWatch = Watch[*netpb.NetworkEvent]

func newWatch[E any](owner *System) *Watch[E] {
	return &Watch[E]{events: make(chan E, watchBuffer), owner: owner}
}

// Snapshot returns one event per object, as it was when the watch began.
func (w *Watch[E]) Snapshot() []E { return w.snapshot }

// Events delivers every change after the snapshot. It is closed when the
// watch ends; Err then says why.
func (w *Watch[E]) Events() <-chan E { return w.events }

// Err is nil when the daemon ended the watch for its graceful stop, and a
// gRPC status otherwise: ResourceExhausted for a watcher that fell too far
// behind, Unavailable when the actors stopped. Call it only once Events
// is closed.
func (w *Watch[E]) Err() error { return w.err }

// Close ends the watch from the client's side.
func (w *Watch[E]) Close() { w.owner.sys.Root.Send(w.owner.root, unwatch{w: w}) }

// hub is the set of watchers of one kind of event. Only the NetManager
// touches it, so it needs no lock.
type hub[E any] struct {
	kind     string
	watchers map[*Watch[E]]struct{}
	metrics  *Metrics
}

func newHub[E any](kind string, m *Metrics) *hub[E] {
	return &hub[E]{kind: kind, watchers: map[*Watch[E]]struct{}{}, metrics: m}
}

func (h *hub[E]) add(w *Watch[E]) {
	h.watchers[w] = struct{}{}
	h.gauge()
}

// remove forgets a watcher its client closed.
func (h *hub[E]) remove(w *Watch[E]) {
	if _, ok := h.watchers[w]; ok {
		delete(h.watchers, w)
		h.gauge()
	}
}

// publish offers ev to every watcher without waiting: a watcher whose
// buffer is full is ended, so it never sees a hole and never slows the
// others.
func (h *hub[E]) publish(ev E) {
	for w := range h.watchers {
		select {
		case w.events <- ev:
		default:
			h.end(w, status.Errorf(codes.ResourceExhausted,
				"this %s watcher fell more than %d events behind and was ended; watch again to get the current state", h.kind, watchBuffer))
			if h.metrics != nil {
				h.metrics.WatchersDropped.WithLabelValues(h.kind).Inc()
			}
		}
	}
}

func (h *hub[E]) end(w *Watch[E], err error) {
	delete(h.watchers, w)
	w.err = err
	close(w.events)
	h.gauge()
}

func (h *hub[E]) endAll(err error) {
	for w := range h.watchers {
		h.end(w, err)
	}
}

func (h *hub[E]) gauge() {
	if h.metrics != nil {
		h.metrics.Watchers.WithLabelValues(h.kind).Set(float64(len(h.watchers)))
	}
}

// watches are the NetManager's watchers; they live in deps so that they
// survive a restart of the NetManager, which ends them.
type watches struct {
	nics     *hub[*netpb.NicEvent]
	networks *hub[*netpb.NetworkEvent]
	// closed is set once the daemon stops: no new watch begins.
	closed bool
}

func newWatches(m *Metrics) *watches {
	return &watches{nics: newHub[*netpb.NicEvent]("nic", m), networks: newHub[*netpb.NetworkEvent]("network", m)}
}

func (w *watches) endAll(err error) {
	w.nics.endAll(err)
	w.networks.endAll(err)
}

// watchNics asks the NetManager to begin a NIC watch.
type watchNics struct{ w *NicWatch }

// watchNetworks asks the NetManager to begin a network watch.
type watchNetworks struct{ w *NetworkWatch }

// unwatch tells the NetManager a client closed its watch.
type unwatch struct{ w any }

// endWatches asks the NetManager to end every watch and refuse new ones.
type endWatches struct{}

func nicEvent(id string, v *netpb.Nic) *netpb.NicEvent {
	return &netpb.NicEvent{NicId: id, Timestamp: time.Now().Unix(), Nic: v}
}

func networkEvent(id string, v *netpb.Network) *netpb.NetworkEvent {
	return &netpb.NetworkEvent{NetworkId: id, Timestamp: time.Now().Unix(), Network: v}
}

// WatchNics begins a NIC watch: its snapshot holds every NIC, its events
// every later change. The caller must Close it.
func (s *System) WatchNics(ctx context.Context) (*NicWatch, error) {
	w := newWatch[*netpb.NicEvent](s)
	if _, err := s.Ask(ctx, watchNics{w: w}); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// WatchNetworks begins a network watch, like WatchNics.
func (s *System) WatchNetworks(ctx context.Context) (*NetworkWatch, error) {
	w := newWatch[*netpb.NetworkEvent](s)
	if _, err := s.Ask(ctx, watchNetworks{w: w}); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// EndWatches ends every watch with an OK status and refuses new ones: the
// daemon calls it before its graceful gRPC stop, which waits for streams.
func (s *System) EndWatches() {
	_, _ = s.sys.Root.RequestFuture(s.root, endWatches{}, DefaultRequestTimeout).Result()
}
