package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/persistence"
	"mvirt-net/reactor"
)

// DefaultRequestTimeout bounds a request whose context has no deadline.
const DefaultRequestTimeout = 10 * time.Second

// Config is what the actor tree needs from the daemon.
type Config struct {
	Store     *persistence.Store
	SocketDir string
	// SocketGroup is the group of every vhost-user socket; -1 keeps the
	// daemon's.
	SocketGroup int
	Log         *slog.Logger
	Metrics     *Metrics
	// ReactorCPUs pins every reactor thread to these CPUs; empty: unpinned.
	ReactorCPUs []int
	// BusyPoll is how long a reactor polls its rings after its last frame
	// (see reactor.DataplaneConfig); 0 never polls.
	BusyPoll time.Duration
	// BusyPollBatch is how many frames a wake-up must bring for a reactor
	// to start polling (see reactor.DataplaneConfig).
	BusyPollBatch int
	// Uplink is the uplink of public networks.
	Uplink UplinkConfig
	// Offloads offers the NICs' drivers checksum and segmentation
	// offloads (see reactor.DataplaneConfig).
	Offloads bool
	// ConntrackSize is the number of connections each NIC tracks (see
	// reactor.DataplaneConfig); 0 is the reactor's default.
	ConntrackSize int
	// Hugepages puts the NICs' inboxes on huge pages (see
	// reactor.DataplaneConfig); Start checks the pool against the NICs
	// in the store.
	Hugepages reactor.HugepageMode
}

// deps are shared, read-only, by every actor of a tree.
type deps struct {
	Config
	reg     *registry
	watches *watches
	// dp is the data plane every NetworkActor adds its ports to.
	dp *reactor.Dataplane
	// uplink is the UplinkActor's, read by views; uplinkPID is where the
	// data plane's PublicChanged goes.
	uplink    *uplinkHandle
	uplinkPID atomic.Pointer[actor.PID]
}

// System is a running actor tree.
type System struct {
	sys  *actor.ActorSystem
	root *actor.PID
	reg  *registry
}

// Start loads the store, removes stray NIC sockets (sweepSockets), builds
// the tree, and returns once every network has started and every NIC
// socket listens. A store that cannot be read is an error and nothing is
// started.
func Start(cfg Config) (*System, error) {
	snap, err := cfg.Store.Load()
	if err != nil {
		return nil, err
	}
	if err := sweepSockets(cfg.SocketDir, snap, cfg.Log); err != nil {
		return nil, err
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return cfg.Log.With("component", "protoactor")
	}))
	d := &deps{Config: cfg, reg: newRegistry(), watches: newWatches(cfg.Metrics), uplink: &uplinkHandle{}}
	d.dp = reactor.NewDataplane(reactor.DataplaneConfig{
		Log: cfg.Log, CPUs: cfg.ReactorCPUs, BusyPoll: cfg.BusyPoll, BusyPollBatch: cfg.BusyPollBatch,
		ConntrackSize: cfg.ConntrackSize, Hugepages: cfg.Hugepages, Offloads: cfg.Offloads,
		PublicChanged: func() {
			if pid := d.uplinkPID.Load(); pid != nil {
				sys.Root.Send(pid, syncUplink{})
			}
		},
	})
	nics := 0
	for _, l := range snap.Nics {
		nics += len(l)
	}
	if err := d.dp.CheckHugepages(nics); err != nil {
		return nil, err
	}
	p := &probe{kind: KindManager}
	props := p.props(func() actor.Actor { return newManager(d, p) },
		actor.WithSupervisor(actor.NewOneForOneStrategy(10, 10*time.Second, actor.DefaultDecider)))
	root, err := sys.Root.SpawnNamed(props, "netmanager")
	if err != nil {
		return nil, fmt.Errorf("spawn netmanager: %w", err)
	}
	s := &System{sys: sys, root: root, reg: d.reg}
	if _, err := sys.Root.RequestFuture(root, awaitReady{}, time.Minute).Result(); err != nil {
		s.Shutdown()
		return nil, fmt.Errorf("start actor tree: %w", err)
	}
	return s, nil
}

// Ask sends a request to the NetManager and waits for its answer within the
// context's deadline. The answer is a protobuf message; failures are gRPC
// status errors.
func (s *System) Ask(ctx context.Context, msg any) (any, error) {
	timeout := DefaultRequestTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if timeout <= 0 {
		return nil, status.Error(codes.DeadlineExceeded, "deadline exceeded before the request was sent")
	}
	res, err := s.sys.Root.RequestFuture(s.root, msg, timeout).Result()
	switch {
	case errors.Is(err, actor.ErrTimeout):
		return nil, status.Error(codes.DeadlineExceeded, "the request did not complete before its deadline")
	case err != nil:
		return nil, status.Errorf(codes.Unavailable, "request failed: %v", err)
	}
	switch r := res.(type) {
	case error:
		return nil, r
	case *actor.DeadLetterResponse:
		if r.Target.Equal(s.root) {
			return nil, status.Error(codes.Unavailable, "mvirt-net is shutting down")
		}
		return nil, status.Error(codes.NotFound, "the object was deleted while the request was in flight")
	}
	return res, nil
}

// Tree returns the live actor tree for introspection.
func (s *System) Tree() *ActorInfo { return s.reg.tree() }

// Shutdown stops the tree top-down, closing every NIC socket. It waits for
// the stop as long as protoactor's stop future does (10 s).
func (s *System) Shutdown() {
	_ = s.sys.Root.StopFuture(s.root).Wait()
	s.sys.Shutdown()
}

// InjectReactorPanic makes the reactor of a NIC panic, to exercise its
// supervision. Only the daemon's fault-injection mode calls it.
func (s *System) InjectReactorPanic(ctx context.Context, nicID string) error {
	_, err := s.Ask(ctx, InjectReactorPanic{NicID: nicID})
	return err
}

// InjectUplinkPanic makes the uplink's reactor panic, to exercise the
// UplinkActor's supervision; FailedPrecondition when no uplink reactor
// runs. Only the daemon's fault-injection mode calls it.
func (s *System) InjectUplinkPanic(ctx context.Context) error {
	_, err := s.Ask(ctx, InjectUplinkPanic{})
	return err
}

// Collector exports every NIC's and the uplink's data-plane counters to
// Prometheus.
func (s *System) Collector() prometheus.Collector {
	return collectors{nicCollector{s.reg}, uplinkCollector{s.reg}}
}
