package bench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// dpdkBackend is testpmd as the reference vhost-user back-end: two vhost
// PMD ports, busy-polled by one forwarding core that forwards port 0 ⇄ 1
// rewriting MACs (--forward-mode=mac), the closest plain-DPDK equivalent
// of routing between two VMs.
type dpdkBackend struct {
	pmd     *testpmd
	dir     string
	sockets [2]string
}

// startDPDKBackend starts testpmd with its sockets in a fresh temp folder,
// devArgs appended to each vhost port's arguments and opts to testpmd's
// options, and starts forwarding.
func startDPDKBackend(bin, devArgs string, opts ...string) (*dpdkBackend, error) {
	dir, err := os.MkdirTemp("", "mvb")
	if err != nil {
		return nil, fmt.Errorf("bench: socket dir: %w", err)
	}
	b := &dpdkBackend{dir: dir}
	var vdevs []string
	for i := range b.sockets {
		b.sockets[i] = filepath.Join(dir, fmt.Sprintf("vhost%d.sock", i))
		vdevs = append(vdevs, fmt.Sprintf("net_vhost%d,iface=%s,queues=1%s", i, b.sockets[i], devArgs))
	}
	if b.pmd, err = startTestpmd(bin, fmt.Sprintf("mvbench-vhost-%d", os.Getpid()), ForwardingCPU, vdevs, append([]string{"--forward-mode=mac"}, opts...)); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := b.pmd.run("start"); err != nil {
		b.stop()
		return nil, err
	}
	return b, nil
}

// stop quits testpmd and removes the sockets.
func (b *dpdkBackend) stop() {
	_ = b.pmd.stop()
	_ = os.RemoveAll(b.dir)
}

// dpdkAt measures one size through a fresh testpmd, so that it polls
// only while measured.
func dpdkAt(s *sizeResult, cfg Config, w io.Writer) error {
	b, err := startDPDKBackend(cfg.Testpmd, "")
	if err != nil {
		return err
	}
	defer b.stop()
	t, err := throughputOnce(b.sockets, [2]endpoint{endA, endB}, s.Size, cfg, b.pmd.cpu)
	if err != nil {
		return err
	}
	s.DPDKRuns = append(s.DPDKRuns, t)
	progress(w, "DPDK", t)
	return nil
}

// dpdkLatency ping-pongs through a fresh testpmd.
func dpdkLatency(cfg Config) latencyResult {
	b, err := startDPDKBackend(cfg.Testpmd, "")
	if err != nil {
		return latencyResult{Note: err.Error()}
	}
	defer b.stop()
	return latencyOnce(b.sockets, [2]endpoint{endA, endB}, cfg)
}

// virtioUserRun is testpmd's virtio_user front-end sending into our
// daemon (txonly), with our sink receiving on the other NIC.
type virtioUserRun struct {
	Size      int
	TxMpps    float64 // what testpmd got the daemon to take
	Delivered throughput
}

// runVirtioUser points testpmd's virtio_user PMD at socket (NIC a of our
// daemon) to send size-byte UDP frames from a to b through the gateway in
// txonly mode, while a sink drains b, and measures window w.
func runVirtioUser(bin, socket string, a, b endpoint, size int, sinkPort *port, w window, cpu cpuFunc) (out virtioUserRun, err error) {
	out.Size = size
	vdev := fmt.Sprintf("net_virtio_user0,path=%s,queues=1,queue_size=1024,mac=%s", socket, a.MAC)
	pmd, err := startTestpmd(bin, fmt.Sprintf("mvbench-vuser-%d", os.Getpid()), 1-ForwardingCPU, []string{vdev}, []string{
		"--forward-mode=txonly", fmt.Sprintf("--txpkts=%d", size),
		fmt.Sprintf("--tx-ip=%s,%s", a.IP, b.IP), fmt.Sprintf("--eth-peer=0,%s", gatewayMAC),
	})
	if err != nil {
		return out, err
	}
	defer func() { err = errors.Join(err, pmd.stop()) }()
	snk := newSink(sinkPort)
	var stop atomic.Bool
	done := make(chan error, 1)
	go func() { done <- snk.run(&stop) }()
	defer func() { stop.Store(true); err = errors.Join(err, <-done) }()
	if err := pmd.run("start"); err != nil {
		return out, err
	}
	time.Sleep(w.Warmup)
	tx0, err := pmd.txPackets(0)
	if err != nil {
		return out, err
	}
	frames0, bytes0 := snk.frames.Load(), snk.bytes.Load()
	cpu0, err := cpu()
	if err != nil {
		return out, err
	}
	start := time.Now()
	time.Sleep(w.Measure)
	tx1, err := pmd.txPackets(0)
	if err != nil {
		return out, err
	}
	frames1, bytes1 := snk.frames.Load(), snk.bytes.Load()
	cpu1, err := cpu()
	if err != nil {
		return out, err
	}
	elapsed := time.Since(start)
	out.TxMpps = float64(tx1-tx0) / elapsed.Seconds() / 1e6
	out.Delivered = throughput{
		Size: size, Sent: tx1 - tx0, Frames: frames1 - frames0, Bytes: bytes1 - bytes0,
		Elapsed: elapsed, BackendCPU: cpu1 - cpu0,
	}
	return out, nil
}
