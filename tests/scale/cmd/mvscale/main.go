// Command mvscale measures the real daemon with many vNICs: CreateNic
// latency and rate, footprint and idle CPU with the NICs created and
// connected, and the start time with them in the store. Run it as
// `make bench-scale`.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"mvirt-net/tests/scale"
)

func main() {
	cfg := scale.Config{}
	flag.IntVar(&cfg.NICs, "nics", 1024, "NICs created concurrently, connected and restarted with")
	flag.IntVar(&cfg.SequentialNICs, "sequential-nics", 200, "NICs created one at a time for the concurrency-1 latency")
	flag.IntVar(&cfg.Concurrency, "concurrency", 32, "concurrent CreateNic clients")
	flag.DurationVar(&cfg.IdleTime, "idle-time", 10*time.Second, "how long the idle CPU is measured")
	flag.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write the daemon's CPU profile over the concurrent creates to this file (needs -daemon-args --debug-pprof)")
	flag.DurationVar(&cfg.CPUProfileTime, "cpuprofile-time", 2*time.Second, "how long the CPU profile runs from the first concurrent create")
	flag.StringVar(&cfg.HeapProfile, "heapprofile", "", "write the daemon's heap profile with every NIC connected to this file (needs -daemon-args --debug-pprof)")
	flag.StringVar(&cfg.SocketBase, "socket-base", "/dev/shm", "tmpfs to make the vhost-user socket directory in, as the unit's /run/mvirt/net (empty: beside the store, on disk)")
	daemonArgs := flag.String("daemon-args", "", "extra mvirt-net flags, space-separated")
	flag.Parse()
	cfg.DaemonArgs = strings.Fields(*daemonArgs)
	res, err := scale.Run(cfg, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mvscale: %v\n", err)
		os.Exit(1)
	}
	scale.Report(os.Stdout, cfg, res)
}
