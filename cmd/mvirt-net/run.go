package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"mvirt-net/actors"
	"mvirt-net/persistence"
	"mvirt-net/reactor"
	"mvirt-net/rpc"
	"mvirt-net/rpc/debughttp"
	"mvirt-net/rpc/endpoint"
)

// shutdownGrace bounds how long in-flight RPCs may run after a signal.
const shutdownGrace = 10 * time.Second

// run starts everything, serves until ctx is cancelled, then shuts down in
// a fixed order: watch streams (ended with OK), gRPC (graceful), debug
// HTTP, actors (closing every NIC socket), the store.
func run(ctx context.Context, cfg *Config) error {
	level, _ := cfg.level()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	for _, w := range cfg.accessWarnings() {
		log.Warn("INSECURE: " + w)
	}
	if err := prepareSocketDir(cfg.SocketDir, cfg.socketGID); err != nil {
		return err
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
		Store: store, SocketDir: cfg.SocketDir, Log: log, Metrics: actors.NewMetrics(reg), SocketGroup: cfg.socketGID, ReactorCPUs: cfg.cpus, BusyPoll: cfg.BusyPoll, BusyPollBatch: cfg.BusyPollBatch,
		Uplink: actors.UplinkConfig{
			Name: cfg.UplinkName, MTU: cfg.UplinkMTU, Forwarding: cfg.UplinkForwarding,
			NAT: reactor.NAT{Iface: cfg.UplinkMasquerade, IPv6: cfg.UplinkMasquerade6},
		},
		ConntrackSize: cfg.ConntrackSize, Hugepages: cfg.Hugepages, Offloads: cfg.Offloads,
	})
	if err != nil {
		return err
	}
	defer tree.Shutdown()
	reg.MustRegister(tree.Collector())

	var opts []grpc.ServerOption
	if cfg.TLS() {
		tc, err := endpoint.ServerTLS(cfg.TLSCert, cfg.TLSKey, cfg.TLSClientCA)
		if err != nil {
			return err
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(tc)))
	}
	lis, err := endpoint.Listen(cfg.listen, cfg.apiGID)
	if err != nil {
		return fmt.Errorf("gRPC: %w", err)
	}
	gs, health := rpc.NewGRPCServer(tree, rpc.NewMetrics(reg), opts...)
	serveErr := make(chan error, 2)
	go func() { serveErr <- gs.Serve(lis) }()

	var dbg *http.Server
	if cfg.DebugListen != "" {
		dl, err := endpoint.Listen(cfg.debugListen, cfg.apiGID)
		if err != nil {
			gs.Stop()
			return fmt.Errorf("debug endpoint: %w", err)
		}
		var faults *debughttp.Faults
		if cfg.FaultInjection {
			faults = &debughttp.Faults{NicPanic: tree.InjectReactorPanic, UplinkPanic: tree.InjectUplinkPanic}
			log.Warn("fault injection enabled on the debug endpoint")
		}
		dbg = &http.Server{Handler: debughttp.Handler(func() any { return tree.Tree() }, reg, connections(tree), faults, cfg.DebugPprof), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := dbg.Serve(dl); !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("debug server: %w", err)
			}
		}()
		log.Info("debug endpoint listening", "addr", cfg.debugListen.String(), "pprof", cfg.DebugPprof)
	}
	log.Info("mvirt-net serving", "version", rpc.Version, "grpc", grpcAddr(cfg, lis), "tls", cfg.TLS(),
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

// grpcAddr is where the gRPC server listens, as a client names it.
func grpcAddr(cfg *Config, lis net.Listener) string {
	if cfg.listen.IsUnix() {
		return cfg.listen.String()
	}
	return lis.Addr().String()
}

// connections serves a NIC's connection table on the debug endpoint.
func connections(tree *actors.System) debughttp.ConnectionsFunc {
	return func(ctx context.Context, nicID string) (any, error) { return tree.Connections(ctx, nicID) }
}
