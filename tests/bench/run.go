package bench

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"mvirt-net/reactor/packet"
)

// ForwardingCPU is the CPU testpmd forwards on as the reference; the
// default daemon arguments pin our reactors to it too, so that both
// back-ends forward on one and the same core while the harness runs on
// the other. The virtio_user cross-check forwards on the other CPU.
const ForwardingCPU = 1

// DefaultDaemonArgs pins the reactors to ForwardingCPU.
var DefaultDaemonArgs = "--reactor-cpus " + strconv.Itoa(ForwardingCPU)

// Config is what a benchmark run does.
type Config struct {
	// Sizes are the Ethernet frame sizes (no FCS, no virtio header).
	Sizes []int
	// Rounds of throughput runs: each round measures every size on DPDK
	// and then on ours, so that both see the same moment of a shared
	// machine; the table shows the median round.
	Rounds int
	// Warmup and Measure shape every throughput run.
	Warmup, Measure time.Duration
	// QueueSize of the harness's rings.
	QueueSize uint16
	// LatencySamples is the number of round trips per ping-pong.
	LatencySamples int
	// IdleNICs connected idle NICs are watched for IdleTime.
	IdleNICs int
	IdleTime time.Duration
	// Testpmd is the dpdk-testpmd binary.
	Testpmd string
	// Profile, if set, is where a CPU profile of the daemon during an
	// extra run at the smallest size is written.
	Profile string
	// DaemonArgs are extra mvirt-net flags, e.g. --reactor-cpus
	// (DefaultDaemonArgs, unless told otherwise).
	DaemonArgs []string
	// Hugepages adds the runs through a second daemon with its inboxes on
	// huge pages (it sizes /proc/sys/vm/nr_hugepages, and restores it).
	Hugepages bool
	// TSO adds the TSO mode: 64 KiB TCP super-frames, passed through to a
	// sink that takes them or segmented for one that does not.
	TSO bool
}

// The endpoints of the harness-only and DPDK runs, which route nothing
// and need no real addresses; ours come from the daemon's IPAM.
var (
	endA = endpoint{MAC: packet.MAC{0x02, 0xaa, 0, 0, 0, 1}, IP: netip.MustParseAddr("10.0.0.2")}
	endB = endpoint{MAC: packet.MAC{0x02, 0xbb, 0, 0, 0, 2}, IP: netip.MustParseAddr("10.0.0.3")}
)

// rxBufSize is the receive buffer size, as Linux's mergeable buffers.
const rxBufSize = 2048

func (c Config) window() window { return window{Warmup: c.Warmup, Measure: c.Measure} }

// port returns the shape of every traffic port: transmit buffers hold the
// largest frame, receive buffers are mergeable 2 KiB ones.
func (c Config) port() portConfig {
	tx := (netHdrLen + slices.Max(c.Sizes) + 63) &^ 63
	return portConfig{QueueSize: c.QueueSize, RxBufSize: rxBufSize, TxBufSize: tx}
}

func (c Config) latency() latencyConfig {
	return latencyConfig{
		Warmup: 1000, Samples: c.LatencySamples, MaxTime: 5 * time.Second,
		Timeout: 100 * time.Millisecond, MaxLost: 20,
	}
}

// Run runs the whole benchmark: the harness against itself, then rounds
// of DPDK and our daemon at every size, latency, the virtio_user
// cross-check and the idle cost. It prints progress and then the table
// and BENCH lines to w. A failed part is reported at the end; the others
// still run.
func Run(cfg Config, w io.Writer) error {
	res := &results{Machine: machine()}
	for _, size := range cfg.Sizes {
		res.Sizes = append(res.Sizes, &sizeResult{Size: size})
	}
	fmt.Fprintf(w, "machine: %s\nconfig: sizes=%v rounds=%d warmup=%s measure=%s queue=%d latency_samples=%d idle_nics=%d idle_time=%s daemon_args=%q\n",
		res.Machine, cfg.Sizes, cfg.Rounds, cfg.Warmup, cfg.Measure, cfg.QueueSize, cfg.LatencySamples, cfg.IdleNICs, cfg.IdleTime, strings.Join(cfg.DaemonArgs, " "))
	err := errors.Join(runHarness(cfg, res, w), runBackends(cfg, res, w))
	res.pickMedians()
	res.skipEmpty()
	res.print(w)
	return err
}

// runBackends starts our daemon and measures both back-ends.
func runBackends(cfg Config, res *results, w io.Writer) (err error) {
	o, err := startDaemon(cfg.DaemonArgs)
	if err != nil {
		return fmt.Errorf("ours: %w", err)
	}
	defer func() { err = errors.Join(err, o.stop()) }()
	nics, err := o.createNetwork("bench", "10.0.0.0/24", 2)
	if err != nil {
		return fmt.Errorf("ours: %w", err)
	}
	if err := o.setMTU("bench", networkMTU(cfg.Sizes)); err != nil {
		return fmt.Errorf("ours: %w", err)
	}
	var errs []error
	for range cfg.Rounds {
		for _, s := range res.Sizes {
			if err := dpdkAt(s, cfg, w); err != nil {
				s.DPDKNote = err.Error()
				errs = append(errs, fmt.Errorf("dpdk %d B: %w", s.Size, err))
			}
			if err := oursAt(o, nics, s, cfg, w); err != nil {
				s.OursNote = err.Error()
				errs = append(errs, fmt.Errorf("ours %d B: %w", s.Size, err))
			}
		}
	}
	if cfg.TSO {
		tso, err := tsoRun(o, nics, cfg, w)
		res.TSO = tso
		errs = append(errs, err)
	}
	sg, err := sgRun(o, nics, cfg, w)
	res.SG = sg
	errs = append(errs, err)
	if cfg.Hugepages {
		hp, err := hpRun(o, nics, cfg, w)
		res.HP = hp
		errs = append(errs, err)
	}
	res.LatDPDK = dpdkLatency(cfg)
	res.LatOurs = latencyOnce(socketsOf(nics), endpointsOf(nics), cfg)
	return errors.Join(append(errs, oursExtras(o, nics, cfg, res, w))...)
}

// runHarness measures the harness against itself (see selfTest).
func runHarness(cfg Config, res *results, w io.Writer) error {
	pc := cfg.port()
	pc.RxBufSize = pc.TxBufSize
	for _, s := range res.Sizes {
		frame, err := udpFrame(endA, endB, s.Size)
		if err != nil {
			return err
		}
		t, err := selfTest(frame, pc, cfg.Measure)
		if err != nil {
			return fmt.Errorf("harness %d B: %w", s.Size, err)
		}
		s.Harness = &t
		fmt.Fprintf(w, "harness  %5d B: %7.3f Mpps per core with a trivial device, %.0f ns/frame\n", t.Size, t.Mpps(), 1e3/t.Mpps())
	}
	return nil
}

// throughputOnce connects fresh ports to sockets (A, B), blasts
// size-byte frames from A to B and measures.
func throughputOnce(sockets [2]string, ends [2]endpoint, size int, cfg Config, cpu cpuFunc) (throughput, error) {
	frame, err := udpFrame(ends[0], ends[1], size)
	if err != nil {
		return throughput{}, err
	}
	a, b, err := dialPair(sockets, cfg.port())
	if err != nil {
		return throughput{}, err
	}
	defer a.close()
	defer b.close()
	return runThroughput(a, b, frame, cfg.window(), cpu)
}

// latencyOnce connects fresh ports to sockets (A, B) and ping-pongs
// 64-byte frames between them.
func latencyOnce(sockets [2]string, ends [2]endpoint, cfg Config) latencyResult {
	ping, err1 := udpFrame(ends[0], ends[1], 64)
	pong, err2 := udpFrame(ends[1], ends[0], 64)
	if err := errors.Join(err1, err2); err != nil {
		return latencyResult{Note: err.Error()}
	}
	pc := cfg.port()
	pc.QueueSize = 256
	a, b, err := dialPair(sockets, pc)
	if err != nil {
		return latencyResult{Note: err.Error()}
	}
	defer a.close()
	defer b.close()
	l, err := pingPong(a, b, ping, pong, cfg.latency())
	if err != nil {
		return latencyResult{Note: err.Error()}
	}
	return latencyResult{Lat: &l}
}

// dialPair connects one port to each socket.
func dialPair(sockets [2]string, pc portConfig) (a, b *port, err error) {
	if a, err = dialPort(sockets[0], pc); err != nil {
		return nil, nil, err
	}
	if b, err = dialPort(sockets[1], pc); err != nil {
		a.close()
		return nil, nil, err
	}
	return a, b, nil
}

// progress prints one throughput run as it completes.
func progress(w io.Writer, who string, t throughput) {
	fmt.Fprintf(w, "%-8s %5d B: %7.3f Mpps %7.3f Gbit/s, %d of %d taken frames not delivered, %s CPU s/Mpkt, harness %.0f+%.0f ns/frame\n",
		who, t.Size, t.Mpps(), t.Gbps(), t.Drops(), t.Sent, num(&t, throughput.CPUPerMpkt), t.GenNs, t.SinkNs)
}
