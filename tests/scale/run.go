package scale

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

// Config says how big the run is.
type Config struct {
	// NICs is how many NICs the footprint and the restart are measured
	// with.
	NICs int
	// SequentialNICs are created one at a time for the concurrency-1
	// latency, in a network deleted afterwards.
	SequentialNICs int
	// Concurrency is the number of concurrent CreateNic clients.
	Concurrency int
	// IdleTime is how long the idle CPU is measured.
	IdleTime time.Duration
	// DaemonArgs are extra mvirt-net flags.
	DaemonArgs []string
	// SocketBase, when set, is where the socket directory is made instead
	// of beside the store: a tmpfs, as the unit's /run/mvirt/net is. On a
	// disk file system that many tests have filled and emptied, binding a
	// socket (creating its inode) costs far more than on a tmpfs.
	SocketBase string
	// CPUProfile, when set, is the file for the daemon's CPU profile over
	// the concurrent creates (the first CPUProfileTime of them).
	CPUProfile     string
	CPUProfileTime time.Duration
	// HeapProfile, when set, is the file for the daemon's heap profile
	// with every NIC connected; beside it go the runtime's memory
	// statistics (.txt) and the kernel's view of the RSS (.smaps).
	HeapProfile string
}

// Result is every figure of a run.
type Result struct {
	Sequential, Concurrent Latency
	Created, Connected     Footprint
	IdleCreated            float64
	IdleConnected          float64
	// Start is from exec to serving with every NIC socket listening, in a
	// restart with NICs in the store.
	Start time.Duration
}

// Run measures, printing progress to log, and returns the figures.
func Run(cfg Config, log io.Writer) (*Result, error) {
	daemon.RaceDetector = false
	dirs, cleanup, err := daemon.NewTempDirs()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if cfg.SocketBase != "" {
		sockets, err := os.MkdirTemp(cfg.SocketBase, "mvscale")
		if err != nil {
			return nil, fmt.Errorf("scale: socket dir: %w", err)
		}
		defer func() { _ = os.RemoveAll(sockets) }()
		dirs.SocketDir = sockets
	}
	defer func() { _ = daemon.RemoveBinaries() }()
	d, err := daemon.Launch(dirs, append([]string{"--log-level", "warn"}, cfg.DaemonArgs...)...)
	if err != nil {
		return nil, err
	}
	defer func() { d.Kill() }()
	res := &Result{}
	fmt.Fprintf(log, "CreateNic: %d one at a time, then %d from %d clients\n", cfg.SequentialNICs, cfg.NICs, cfg.Concurrency)
	seq, err := network(d.Client, "scale-seq")
	if err != nil {
		return nil, err
	}
	if _, res.Sequential, err = createNics(d.Client, d.Pid(), seq, cfg.SequentialNICs, 1); err != nil {
		return nil, err
	}
	if _, err := d.Client.DeleteNetwork(context.Background(), &netpb.DeleteNetworkRequest{Id: seq, Force: true}); err != nil {
		return nil, fmt.Errorf("scale: delete network: %w", err)
	}
	many, err := network(d.Client, "scale")
	if err != nil {
		return nil, err
	}
	var prof *profiler
	if cfg.CPUProfile != "" {
		prof = startCPUProfile(d, cfg.CPUProfile, cfg.CPUProfileTime)
	}
	paths, conc, err := createNics(d.Client, d.Pid(), many, cfg.NICs, cfg.Concurrency)
	if err != nil {
		return nil, err
	}
	if err := prof.wait(); err != nil {
		return nil, err
	}
	res.Concurrent = conc

	fmt.Fprintf(log, "footprint with %d NICs created\n", cfg.NICs)
	if res.Created, res.IdleCreated, err = settle(d.Pid(), cfg.IdleTime); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "connecting %d frontends\n", cfg.NICs)
	guests, err := connectAll(paths)
	defer func() {
		for _, g := range guests {
			g.Close()
		}
	}()
	if err != nil {
		return nil, err
	}
	if res.Connected, res.IdleConnected, err = settle(d.Pid(), cfg.IdleTime); err != nil {
		return nil, err
	}
	if cfg.HeapProfile != "" {
		if err := memoryProfile(d, cfg.HeapProfile); err != nil {
			return nil, err
		}
	}
	for _, g := range guests {
		g.Close()
	}
	guests = nil

	fmt.Fprintf(log, "restart with %d NICs in the store\n", cfg.NICs)
	if err := d.Stop(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	d, err = daemon.Launch(dirs, append([]string{"--log-level", "warn"}, cfg.DaemonArgs...)...)
	if err != nil {
		return nil, err
	}
	res.Start = time.Since(t0)
	if err := allListen(paths); err != nil {
		return nil, err
	}
	return res, nil
}

// network creates a dual-stack network with room for every NIC.
func network(c netpb.NetServiceClient, name string) (string, error) {
	n, err := c.CreateNetwork(context.Background(), &netpb.CreateNetworkRequest{
		Name: name, Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/16", Ipv6Enabled: true, Ipv6Prefix: "fd00::/64",
	})
	if err != nil {
		return "", fmt.Errorf("scale: create network: %w", err)
	}
	return n.Id, nil
}

// settle waits for the daemon to go quiet, then reads its footprint and
// measures its idle CPU.
func settle(pid int, idle time.Duration) (Footprint, float64, error) {
	time.Sleep(2 * time.Second)
	f, err := footprint(pid)
	if err != nil {
		return f, 0, err
	}
	cpu, err := idleCPU(pid, idle)
	return f, cpu, err
}

// connectAll brings up a simulated-VMM frontend with 256-entry rings on
// every socket.
func connectAll(paths []string) ([]*vmm.Guest, error) {
	guests := make([]*vmm.Guest, 0, len(paths))
	for _, p := range paths {
		g, err := vmm.Connect(p, vmm.GuestConfig{QueueSize: 256})
		if err != nil {
			return guests, fmt.Errorf("scale: connect %s: %w", p, err)
		}
		guests = append(guests, g)
	}
	return guests, nil
}

// allListen checks that every NIC socket accepts a connection.
func allListen(paths []string) error {
	var errs []error
	for _, p := range paths {
		c, err := net.DialTimeout("unix", p, time.Second)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		_ = c.Close()
	}
	if len(errs) > 0 {
		return fmt.Errorf("scale: %d sockets do not listen after the restart: %w", len(errs), errors.Join(errs...))
	}
	return nil
}
