package bench

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync/atomic"
	"time"

	"mvirt-net/reactor/packet"
)

// The kernel-only comparison of the uplink rows: a "vm" namespace joined
// by a second veth pair to the host namespace, which forwards between
// it and the outside, as the uplink does for a NIC, with no daemon.
const (
	vethVMAddr   = "203.0.113.2"
	vethHostAddr = "203.0.113.1"
)

// runUplinkVeth measures the uplink rows' path with a veth and the
// kernel's forwarding in place of the NIC and the daemon: the same
// sockets at the outside end, batched the same way, and a socket in the
// "vm" namespace. It prints a BENCH uplink_veth line per row, the rate
// the kernel alone forwards on this machine.
func runUplinkVeth(cfg Config, w io.Writer) error {
	tag := fmt.Sprintf("mvbveth%d", os.Getpid())
	vm, host, out := tag+"v", tag+"h", tag+"o"
	defer func() {
		for _, n := range []string{vm, host, out} {
			_ = exec.Command("ip", "netns", "del", n).Run()
		}
	}()
	cmds := [][]string{
		{"netns", "add", vm}, {"netns", "add", host}, {"netns", "add", out},
		{"-n", vm, "link", "set", "lo", "up"}, {"-n", host, "link", "set", "lo", "up"}, {"-n", out, "link", "set", "lo", "up"},
		{"-n", vm, "link", "add", "vm0", "type", "veth", "peer", "name", "vm0p", "netns", host},
		{"-n", host, "link", "add", "up0", "type", "veth", "peer", "name", "up0p", "netns", out},
		{"-n", vm, "addr", "add", vethVMAddr + "/25", "dev", "vm0"},
		{"-n", host, "addr", "add", vethHostAddr + "/25", "dev", "vm0p"},
		{"-n", host, "addr", "add", hostVethAddr, "dev", "up0"},
		{"-n", out, "addr", "add", outsideAddr + "/24", "dev", "up0p"},
		{"-n", vm, "link", "set", "vm0", "up"}, {"-n", host, "link", "set", "vm0p", "up"},
		{"-n", host, "link", "set", "up0", "up"}, {"-n", out, "link", "set", "up0p", "up"},
		{"-n", vm, "route", "add", "default", "via", vethHostAddr},
		{"-n", out, "route", "add", uplinkSubnet, "via", "198.51.100.1"},
		{"netns", "exec", host, "sysctl", "-qw", "net.ipv4.ip_forward=1"},
	}
	for _, c := range cmds {
		if b, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			return fmt.Errorf("bench: ip %v: %w: %s", c, err, b)
		}
	}
	var errs []error
	for _, size := range cfg.Sizes {
		if size < udpHeaders || size > packet.EthernetHeaderLen+1500 {
			continue
		}
		for _, dir := range []string{"out", "in"} {
			src, dst, dstAddr := vm, out, outsideAddr
			if dir == "in" {
				src, dst, dstAddr = out, vm, vethVMAddr
			}
			t, err := vethRun(src, dst, dstAddr, size, cfg)
			if err != nil {
				errs = append(errs, fmt.Errorf("uplink_veth %s %d B: %w", dir, size, err))
				continue
			}
			fmt.Fprintf(w, "BENCH uplink_veth dir=%s size=%d mpps=%.3f gbps=%.3f sent_mpps=%.3f drop_pct=%.1f\n",
				dir, size, t.Mpps(), t.Gbps(), float64(t.Sent)/t.Elapsed.Seconds()/1e6, dropPct(t))
		}
	}
	return errors.Join(errs...)
}

// vethRun sends size-byte frames' worth of UDP from a socket in src to
// one in dst at dstAddr and measures what arrives.
func vethRun(src, dst, dstAddr string, size int, cfg Config) (throughput, error) {
	rc, err := udpIn(dst, &net.UDPAddr{IP: net.ParseIP(dstAddr), Port: outsidePort}, nil)
	if err != nil {
		return throughput{}, err
	}
	defer rc.Close()
	sc, err := udpIn(src, nil, &net.UDPAddr{IP: net.ParseIP(dstAddr), Port: outsidePort})
	if err != nil {
		return throughput{}, err
	}
	defer sc.Close()
	payload := make([]byte, size-udpHeaders)
	var s, r udpCounter
	flows := []func(*atomic.Bool) error{
		func(stop *atomic.Bool) error { return r.receive(rc, stop) },
		func(stop *atomic.Bool) error { return s.send(sc, payload, stop) },
	}
	noCPU := func() (time.Duration, error) { return 0, nil }
	return measureFlow(size, flows, func() (uint64, uint64, uint64) { return s.frames.Load(), r.frames.Load(), r.bytes.Load() }, cfg.window(), noCPU)
}
