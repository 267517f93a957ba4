package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/net/ipv4"

	"mvirt-net/reactor/packet"
	"mvirt-net/rpc/netpb"
)

// The addresses of the uplink runs, documentation ranges only: the
// public network, and the veth between the daemon's namespace (host)
// and the outside one, whose UDP socket is the far end.
const (
	uplinkSubnet = "203.0.113.0/25"
	hostVethAddr = "198.51.100.1/24"
	outsideAddr  = "198.51.100.2"
	outsidePort  = 9001
)

// udpHeaders is what an Ethernet frame of the harness holds around a UDP
// payload: Ethernet, IPv4 and UDP headers.
const udpHeaders = packet.EthernetHeaderLen + packet.IPv4MinHeaderLen + packet.UDPHeaderLen

// uplinkNets are the two namespaces of an uplink run.
type uplinkNets struct{ host, outside string }

// newUplinkNets creates the host and outside namespaces joined by a veth
// pair, addressed, with the outside routing the public subnet to the host.
func newUplinkNets() (uplinkNets, error) {
	tag := fmt.Sprintf("mvbup%d", os.Getpid())
	n := uplinkNets{host: tag + "h", outside: tag + "o"}
	cmds := [][]string{
		{"netns", "add", n.host},
		{"netns", "add", n.outside},
		{"-n", n.host, "link", "set", "lo", "up"},
		{"-n", n.outside, "link", "set", "lo", "up"},
		{"-n", n.host, "link", "add", "up0", "type", "veth", "peer", "name", "up0p", "netns", n.outside},
		{"-n", n.host, "addr", "add", hostVethAddr, "dev", "up0"},
		{"-n", n.outside, "addr", "add", outsideAddr + "/24", "dev", "up0p"},
		{"-n", n.host, "link", "set", "up0", "up"},
		{"-n", n.outside, "link", "set", "up0p", "up"},
		{"-n", n.outside, "route", "add", uplinkSubnet, "via", "198.51.100.1"},
	}
	for _, c := range cmds {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			n.remove()
			return uplinkNets{}, fmt.Errorf("bench: ip %v: %w: %s", c, err, out)
		}
	}
	return n, nil
}

// remove deletes both namespaces, and with them the veth pair.
func (n uplinkNets) remove() {
	_ = exec.Command("ip", "netns", "del", n.host).Run()
	_ = exec.Command("ip", "netns", "del", n.outside).Run()
}

// udpIn opens a UDP socket in namespace ns: laddr bound, raddr
// connected if set. The socket stays in ns whatever thread uses it.
func udpIn(ns string, laddr, raddr *net.UDPAddr) (*net.UDPConn, error) {
	type res struct {
		c   *net.UDPConn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		// The thread enters ns and is never given back: it ends with
		// this goroutine, still locked.
		runtime.LockOSThread()
		h, err := netns.GetFromName(ns)
		if err != nil {
			ch <- res{err: fmt.Errorf("bench: netns %s: %w", ns, err)}
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			ch <- res{err: fmt.Errorf("bench: enter netns %s: %w", ns, err)}
			return
		}
		var c *net.UDPConn
		if raddr != nil {
			c, err = net.DialUDP("udp4", laddr, raddr)
		} else {
			c, err = net.ListenUDP("udp4", laddr)
		}
		ch <- res{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

// udpBatch is how many datagrams one recvmmsg or sendmmsg of the outside
// end moves, so that its socket is not one system call per datagram.
const udpBatch = 64

// udpCounter counts datagrams and the Ethernet frame bytes they stood for.
type udpCounter struct{ frames, bytes atomic.Uint64 }

// receive reads c, batches at a time, until stop, counting.
func (u *udpCounter) receive(c *net.UDPConn, stop *atomic.Bool) error {
	pc := ipv4.NewPacketConn(c)
	msgs := make([]ipv4.Message, udpBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 2048)}
	}
	for !stop.Load() {
		if err := c.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
			return fmt.Errorf("bench: udp sink deadline: %w", err)
		}
		n, err := pc.ReadBatch(msgs, 0)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("bench: udp sink: %w", err)
		}
		var b uint64
		for _, m := range msgs[:n] {
			b += uint64(m.N + udpHeaders)
		}
		u.frames.Add(uint64(n))
		u.bytes.Add(b)
	}
	return nil
}

// send writes payload on c, batches at a time, until stop, counting the
// datagrams the kernel took; a refused or dropped datagram is the
// kernel's to count, not an error of the run.
func (u *udpCounter) send(c *net.UDPConn, payload []byte, stop *atomic.Bool) error {
	pc := ipv4.NewPacketConn(c)
	msgs := make([]ipv4.Message, udpBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{payload}
	}
	for !stop.Load() {
		if n, _ := pc.WriteBatch(msgs, 0); n > 0 {
			u.frames.Add(uint64(n))
		}
	}
	return nil
}

// flowCount reads a flow's counters: frames sent into the path, frames
// delivered at its far end and their bytes.
type flowCount func() (sent, delivered, bytes uint64)

// measureFlow runs flows until the window w is over and measures what
// count reports sent and delivered in it.
func measureFlow(size int, flows []func(*atomic.Bool) error, count flowCount, w window, cpu cpuFunc) (throughput, error) {
	var stop atomic.Bool
	errs := make(chan error, len(flows))
	for _, f := range flows {
		go func() { errs <- f(&stop) }()
	}
	time.Sleep(w.Warmup)
	s0, f0, b0 := count()
	cpu0, err0 := cpu()
	start := time.Now()
	time.Sleep(w.Measure)
	s1, f1, b1 := count()
	cpu1, err1 := cpu()
	t := throughput{Size: size, Elapsed: time.Since(start), Frames: f1 - f0, Sent: s1 - s0, Bytes: b1 - b0, BackendCPU: cpu1 - cpu0}
	stop.Store(true)
	all := []error{err0, err1}
	for range flows {
		all = append(all, <-errs)
	}
	return t, errors.Join(all...)
}

// RunUplink measures a public network's path through the uplink: a
// harness NIC sending UDP to a socket in an outside namespace (dir=out)
// and a socket there sending to the NIC (dir=in), at every size of cfg,
// through a daemon in a namespace of its own. It prints a BENCH uplink
// line per row to w: the delivered rate, the rate sent into the path and
// the share of it dropped, then where the drops were counted. With
// cfg.Profile it writes a CPU profile of the daemon per row beside it.
// Then it measures the same path with the kernel alone forwarding from a
// veth (runUplinkVeth). No packet leaves the namespaces it creates.
func RunUplink(cfg Config, w io.Writer) (err error) {
	nets, err := newUplinkNets()
	if err != nil {
		return err
	}
	defer nets.remove()
	o, err := startDaemonIn(nets.host, append([]string{"--uplink-forwarding"}, cfg.DaemonArgs...))
	if err != nil {
		return fmt.Errorf("uplink: %w", err)
	}
	defer func() { err = errors.Join(err, o.stop()) }()
	nic, err := o.publicNic()
	if err != nil {
		return fmt.Errorf("uplink: %w", err)
	}
	outside := endpoint{IP: netip.MustParseAddr(outsideAddr)}
	var errs []error
	for _, size := range cfg.Sizes {
		if size < udpHeaders || size > packet.EthernetHeaderLen+1500 {
			continue
		}
		for _, dir := range []string{"out", "in"} {
			c0, err := readUplinkCounters(o, nets, nic.ID)
			if err != nil {
				return errors.Join(append(errs, err)...)
			}
			t, err := uplinkRun(o, nets, nic, outside, dir, size, cfg, w)
			if err != nil {
				errs = append(errs, fmt.Errorf("uplink %s %d B: %w", dir, size, err))
				continue
			}
			c1, err := readUplinkCounters(o, nets, nic.ID)
			if err != nil {
				return errors.Join(append(errs, err)...)
			}
			fmt.Fprintf(w, "BENCH uplink dir=%s size=%d mpps=%.3f gbps=%.3f cpu_ns_per_pkt=%.0f sent_mpps=%.3f drop_pct=%.1f\n",
				dir, size, t.Mpps(), t.Gbps(), t.CPUPerMpkt()*1e3, float64(t.Sent)/t.Elapsed.Seconds()/1e6, dropPct(t))
			fmt.Fprintf(w, "uplink dir=%s size=%d drops (whole run): %s\n", dir, size, dropNote(c0, c1))
		}
	}
	return errors.Join(append(errs, runUplinkVeth(cfg, w))...)
}

// uplinkRun measures one direction at one size through a fresh port of
// the NIC, and profiles the daemon meanwhile if cfg.Profile is set.
func uplinkRun(o *ourDaemon, nets uplinkNets, nic nicInfo, outside endpoint, dir string, size int, cfg Config, w io.Writer) (throughput, error) {
	p, err := dialPort(nic.Socket, cfg.port())
	if err != nil {
		return throughput{}, err
	}
	defer p.close()
	profiled := make(chan error, 1)
	if cfg.Profile != "" {
		path := fmt.Sprintf("%s-uplink-%s-%d.pprof", strings.TrimSuffix(cfg.Profile, ".pprof"), dir, size)
		go func() {
			time.Sleep(cfg.Warmup)
			err := o.profile(path, max(cfg.Measure, time.Second))
			if err == nil {
				fmt.Fprintf(w, "daemon CPU profile of uplink dir=%s size=%d: %s\n", dir, size, path)
			}
			profiled <- err
		}()
	} else {
		profiled <- nil
	}
	var t throughput
	if dir == "out" {
		t, err = uplinkOut(o, nets, p, nic.endpoint, outside, size, cfg)
	} else {
		t, err = uplinkIn(o, nets, p, nic.endpoint, size, cfg)
	}
	return t, errors.Join(err, <-profiled)
}

// publicNic creates the public network and one NIC in it.
func (o *ourDaemon) publicNic() (nicInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	if _, err := o.d.Client.CreateNetwork(ctx, &netpb.CreateNetworkRequest{Name: "uplink", Ipv4Enabled: true, Ipv4Subnet: uplinkSubnet, IsPublic: true}); err != nil {
		return nicInfo{}, fmt.Errorf("bench: create public network: %w", err)
	}
	nic, err := o.d.Client.CreateNic(ctx, &netpb.CreateNicRequest{NetworkId: "uplink", Name: "bench"})
	if err != nil {
		return nicInfo{}, fmt.Errorf("bench: create nic in the public network: %w", err)
	}
	hw, err := net.ParseMAC(nic.MacAddress)
	if err != nil {
		return nicInfo{}, fmt.Errorf("bench: nic %s mac: %w", nic.Id, err)
	}
	ip, err := netip.ParseAddr(nic.Ipv4Address)
	if err != nil {
		return nicInfo{}, fmt.Errorf("bench: nic %s address: %w", nic.Id, err)
	}
	return nicInfo{ID: nic.Id, Socket: nic.SocketPath, endpoint: endpoint{MAC: packet.MAC(hw), IP: ip}}, nil
}

// uplinkOut blasts size-byte frames from the NIC to the outside socket.
func uplinkOut(o *ourDaemon, nets uplinkNets, p *port, src, dst endpoint, size int, cfg Config) (throughput, error) {
	c, err := udpIn(nets.outside, &net.UDPAddr{IP: net.ParseIP(outsideAddr), Port: outsidePort}, nil)
	if err != nil {
		return throughput{}, err
	}
	defer c.Close()
	frame, err := udpFrame(src, dst, size)
	if err != nil {
		return throughput{}, err
	}
	gen, err := newGenerator(p, frame)
	if err != nil {
		return throughput{}, err
	}
	var u udpCounter
	recv := func(stop *atomic.Bool) error { return u.receive(c, stop) }
	return measureFlow(size, []func(*atomic.Bool) error{gen.run, recv},
		func() (uint64, uint64, uint64) { return gen.sent.Load(), u.frames.Load(), u.bytes.Load() }, cfg.window(), o.cpu)
}

// uplinkIn sends size-byte frames' worth of UDP from the outside socket
// to the NIC, whose harness side counts them.
func uplinkIn(o *ourDaemon, nets uplinkNets, p *port, dst endpoint, size int, cfg Config) (throughput, error) {
	c, err := udpIn(nets.outside, nil, &net.UDPAddr{IP: dst.IP.AsSlice(), Port: outsidePort})
	if err != nil {
		return throughput{}, err
	}
	defer c.Close()
	payload := make([]byte, size-udpHeaders)
	snk := newSink(p)
	var u udpCounter
	src := func(stop *atomic.Bool) error { return u.send(c, payload, stop) }
	return measureFlow(size, []func(*atomic.Bool) error{snk.run, src},
		func() (uint64, uint64, uint64) { return u.frames.Load(), snk.frames.Load(), snk.bytes.Load() }, cfg.window(), o.cpu)
}
