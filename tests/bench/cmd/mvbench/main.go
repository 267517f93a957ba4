// Command mvbench benchmarks mvirt-net's VM-to-VM data plane side by side
// with DPDK: the simulated-VMM harness drives two NICs of the real
// daemon, then the same two ports of dpdk-testpmd's vhost PMD, and prints
// one table plus machine-readable BENCH lines. Run it as `make bench`.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"mvirt-net/tests/bench"
)

func main() {
	cfg := bench.Config{}
	sizes := flag.String("sizes", "64,512,1500,9000", "comma-separated Ethernet frame sizes in bytes")
	queue := flag.Uint("queue", 1024, "harness virtqueue size (a power of 2)")
	flag.IntVar(&cfg.Rounds, "rounds", 3, "throughput rounds (DPDK then ours at every size); the median is reported")
	flag.DurationVar(&cfg.Warmup, "warmup", time.Second, "warm-up before each throughput measurement")
	flag.DurationVar(&cfg.Measure, "measure", 3*time.Second, "length of each throughput measurement")
	flag.IntVar(&cfg.LatencySamples, "latency-samples", 20000, "round trips per latency measurement")
	flag.IntVar(&cfg.IdleNICs, "idle-nics", 100, "connected idle NICs for the idle cost (0 skips it)")
	flag.DurationVar(&cfg.IdleTime, "idle-time", 30*time.Second, "how long the idle cost is measured")
	flag.StringVar(&cfg.Testpmd, "testpmd", "dpdk-testpmd", "dpdk-testpmd binary")
	flag.StringVar(&cfg.Profile, "pprof", "", "write a CPU profile of the daemon during an extra run at the smallest size here")
	flag.BoolVar(&cfg.Hugepages, "hugepages", true, "also measure 64, 200 and 1500 B through a second daemon with --hugepages=required, alternating with the first (reserves 2 pages in /proc/sys/vm/nr_hugepages for the run)")
	flag.BoolVar(&cfg.TSO, "tso", true, "also measure 64 KiB TCP super-frames (TSO), passed through to a sink with GUEST_TSO4 (ours and testpmd with tso=1) and segmented for one without (ours)")
	vm := flag.Bool("vm", true, "measure the VM-to-VM rows (ours against DPDK, TSO, latency, idle cost, security groups, huge pages); -vm=false -uplink runs only the uplink rows")
	uplink := flag.Bool("uplink", true, "also measure a public network's NIC to uplink to kernel path and back, at the sizes up to 1514 B, in network namespaces of its own")
	guestTCP := flag.Bool("guest-tcp", true, "also measure TCP between two QEMU (TCG) guests for 10 s through our daemon with offloads on, with --offloads=false and through testpmd (tso=1, mac fwd); boots 6 guests, about 3 minutes")
	daemonArgs := flag.String("daemon-args", bench.DefaultDaemonArgs, "extra mvirt-net flags, space-separated; the default pins the reactors to testpmd's forwarding CPU, \"\" leaves them unpinned")
	flag.Parse()
	cfg.DaemonArgs = strings.Fields(*daemonArgs)
	cfg.QueueSize = uint16(*queue)
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "mvbench: bad size %q\n", f)
			os.Exit(2)
		}
		cfg.Sizes = append(cfg.Sizes, n)
	}
	var err error
	if *vm {
		err = bench.Run(cfg, os.Stdout)
	}
	if *uplink {
		err = errors.Join(err, bench.RunUplink(cfg, os.Stdout))
	}
	if *guestTCP {
		err = errors.Join(err, bench.RunGuestTCP(cfg, os.Stdout))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mvbench: %v\n", err)
		os.Exit(1)
	}
}
