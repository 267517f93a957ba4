package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"mvirt-net/actors"
	"mvirt-net/persistence"
	"mvirt-net/reactor"
	"mvirt-net/rpc"
	"mvirt-net/rpc/debughttp"
)

// shutdownGrace bounds how long in-flight RPCs may run after a signal.
const shutdownGrace = 10 * time.Second

// run starts everything, serves until ctx is cancelled, then shuts down in
// a fixed order: watch streams (ended with OK), gRPC (graceful), debug
// HTTP, actors (closing every NIC socket), the store.
func run(ctx context.Context, cfg *Config) error {
	level, _ := cfg.level()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	if err := os.MkdirAll(cfg.SocketDir, 0o755); err != nil {
		return fmt.Errorf("create socket dir: %w", err)
	}
	store, err := persistence.Open(cfg.MetadataDir, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	tree, err := actors.Start(actors.Config{
		Store: store, SocketDir: cfg.SocketDir, Log: log, Metrics: actors.NewMetrics(reg), ReactorCPUs: cfg.cpus, BusyPoll: cfg.BusyPoll, BusyPollBatch: cfg.BusyPollBatch,
		Uplink: actors.UplinkConfig{
			Name: cfg.UplinkName, MTU: cfg.UplinkMTU, Forwarding: cfg.UplinkForwarding,
			NAT: reactor.NAT{Iface: cfg.UplinkMasquerade, IPv6: cfg.UplinkMasquerade6},
		},
		ConntrackSize: cfg.ConntrackSize, Hugepages: cfg.Hugepages,
	})
	if err != nil {
		return err
	}
	defer tree.Shutdown()
	reg.MustRegister(tree.Collector())

	lis, err := listen(cfg.Listen)
	if err != nil {
		return fmt.Errorf("gRPC listen on %s: %w", cfg.Listen, err)
	}
	gs, health := rpc.NewGRPCServer(tree, rpc.NewMetrics(reg))
	serveErr := make(chan error, 2)
	go func() { serveErr <- gs.Serve(lis) }()

	var dbg *http.Server
	if cfg.DebugListen != "" {
		dl, err := listen(cfg.DebugListen)
		if err != nil {
			gs.Stop()
			return fmt.Errorf("debug listen on %s: %w", cfg.DebugListen, err)
		}
		var faults debughttp.FaultFunc
		if cfg.FaultInjection {
			faults = tree.InjectReactorPanic
			log.Warn("fault injection enabled on the debug endpoint")
		}
		dbg = &http.Server{Handler: debughttp.Handler(func() any { return tree.Tree() }, reg, connections(tree), faults), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := dbg.Serve(dl); !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("debug server: %w", err)
			}
		}()
		log.Info("debug endpoint listening", "addr", dl.Addr().String())
	}
	log.Info("mvirt-net serving", "version", rpc.Version, "grpc", lis.Addr().String(),
		"socket_dir", cfg.SocketDir, "metadata_dir", cfg.MetadataDir)

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-serveErr:
		log.Error("server failed; shutting down", "err", err)
	}
	health.Shutdown()
	tree.EndWatches()
	stopGRPC(gs.GracefulStop, gs.Stop, log)
	if dbg != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = dbg.Shutdown(sctx)
		cancel()
	}
	return err
}

// stopGRPC lets in-flight RPCs finish for shutdownGrace, then cuts them off.
func stopGRPC(graceful, hard func(), log *slog.Logger) {
	done := make(chan struct{})
	go func() { graceful(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownGrace):
		log.Warn("in-flight RPCs did not finish in time; stopping hard")
		hard()
	}
}

// connections serves a NIC's connection table on the debug endpoint.
func connections(tree *actors.System) debughttp.ConnectionsFunc {
	return func(ctx context.Context, nicID string) (any, error) { return tree.Connections(ctx, nicID) }
}
