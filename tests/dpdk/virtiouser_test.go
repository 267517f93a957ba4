// Package dpdk_test runs the real daemon against a vhost-user frontend
// written by others: the virtio_user PMD of DPDK's testpmd. It checks
// that the frontend negotiates with a NIC socket, that the NIC's state
// follows the connection, and that the gateway answers ARP and ping
// through DPDK's virtqueues.
package dpdk_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

var (
	gwMAC = packet.MAC{0x02, 0, 0, 0, 0, 1}
	gwIP  = netip.MustParseAddr("169.254.0.1")
	// echoData is the payload of the echo requests.
	echoData = []byte("mvirt-net virtio_user")
)

const (
	// echoID is the identifier of the echo requests; echoCount of them
	// are sent, with sequence numbers from 0.
	echoID    = 0x6d76
	echoCount = 3
	// rpcTimeout bounds each gRPC call.
	rpcTimeout = 10 * time.Second
	// activeTimeout is how long testpmd may take to start and its
	// virtio_user port to bring the NIC's rings up.
	activeTimeout = 20 * time.Second
	// replyTimeout is how long the gateway's replies may take to reach
	// the output pcap once the NIC is active.
	replyTimeout = 15 * time.Second
	// createdTimeout is how long the NIC may take to return to CREATED
	// once testpmd exited.
	createdTimeout = 10 * time.Second
	// pollInterval is the pause between two looks at a state or a file.
	pollInterval = 50 * time.Millisecond
)

// featuresRE finds the features virtio_user's driver negotiated in
// testpmd's output (a debug line of the pmd.net.virtio.init log type).
var featuresRE = regexp.MustCompile(`features after negotiate = ([0-9a-fA-F]+)`)

// featureNames names the virtio feature bits a virtio-net frontend and
// this daemon may negotiate, for the test log.
var featureNames = map[int]string{
	5: "MAC", 15: "MRG_RXBUF", 16: "STATUS", 17: "CTRL_VQ", 22: "MQ",
	28: "INDIRECT_DESC", 29: "EVENT_IDX", 30: "PROTOCOL_FEATURES",
	32: "VERSION_1", 34: "RING_PACKED", 35: "IN_ORDER",
}

// featureVersion1 is VIRTIO_F_VERSION_1: the modern device interface.
const featureVersion1 = 32

// TestVirtioUserGateway has testpmd forward, in io mode, between a pcap
// port and a virtio_user port connected to a NIC's socket: the pcap port
// replays an ARP request for the gateway and echo requests to it into the
// NIC, and records what the NIC sends back. The NIC must go ACTIVE while
// testpmd runs and back to CREATED after it exits; the recording must
// hold the gateway's ARP reply and one echo reply per request.
func TestVirtioUserGateway(t *testing.T) {
	bin := testpmdPath(t)
	d := daemon.Start(t, daemon.NewDirs(t))
	nic, mac, ip := createNic(t, d)
	waitNicState(t, d, nic.Id, netpb.NicState_NIC_STATE_CREATED, createdTimeout, nil)

	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pcap"), filepath.Join(dir, "out.pcap")
	requests := [][]byte{packettest.ARP(packet.ARPRequest, mac, ip, packet.MAC{}, gwIP)}
	for seq := range uint16(echoCount) {
		requests = append(requests, packettest.ICMPv4(mac, gwMAC, ip, gwIP, 8, 0, packettest.Echo(echoID, seq, echoData)))
	}
	if err := writePcap(in, requests); err != nil {
		t.Fatal(err)
	}

	// Port 0 is the NIC, port 1 the pcap files; --no-flush-rx keeps
	// testpmd from draining the requests before it forwards.
	p := startTestpmd(t, bin, []string{
		"-l", "0,1", "--log-level=pmd.net.virtio.init:debug",
		"--vdev", fmt.Sprintf("net_virtio_user0,path=%s,queues=1,mac=%s", nic.SocketPath, nic.MacAddress),
		"--vdev", fmt.Sprintf("net_pcap0,rx_pcap=%s,tx_pcap=%s", in, out),
	}, []string{"--forward-mode=io", "--no-flush-rx", "--total-num-mbufs=8192"})
	waitNicState(t, d, nic.Id, netpb.NicState_NIC_STATE_ACTIVE, activeTimeout, p)
	waitReplies(t, p, out)
	if err := p.quit(); err != nil {
		t.Fatal(err)
	}
	waitNicState(t, d, nic.Id, netpb.NicState_NIC_STATE_CREATED, createdTimeout, nil)

	frames, err := readPcap(out)
	if err != nil {
		t.Fatal(err)
	}
	checkReplies(t, frames, mac, ip)
	checkFeatures(t, p.output())
}

// createNic creates an IPv4 network and a NIC on it, and returns the NIC
// with its MAC and IPv4 address.
func createNic(t *testing.T, d *daemon.Daemon) (*netpb.Nic, packet.MAC, netip.Addr) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	n, err := d.Client.CreateNetwork(ctx, &netpb.CreateNetworkRequest{
		Name: "net", Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/24",
	})
	if err != nil {
		t.Fatalf("create network: %v", err)
	}
	nic, err := d.Client.CreateNic(ctx, &netpb.CreateNicRequest{NetworkId: n.Id})
	if err != nil {
		t.Fatalf("create nic: %v", err)
	}
	hw, err := net.ParseMAC(nic.MacAddress)
	if err != nil || len(hw) != len(packet.MAC{}) {
		t.Fatalf("nic MAC %q: %v", nic.MacAddress, err)
	}
	ip, err := netip.ParseAddr(nic.Ipv4Address)
	if err != nil {
		t.Fatalf("nic IPv4 address: %v", err)
	}
	return nic, packet.MAC(hw), ip
}

// waitNicState polls the NIC's state until it is want, and fails the test
// after timeout or, if p is not nil, when testpmd exits first.
func waitNicState(t *testing.T, d *daemon.Daemon, id string, want netpb.NicState, timeout time.Duration, p *testpmd) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
		n, err := d.Client.GetNic(ctx, &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Id{Id: id}})
		cancel()
		if err != nil {
			t.Fatalf("get nic %s: %v", id, err)
		}
		if n.State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nic %s is %v after %s, want %v", id, n.State, timeout, want)
		}
		if p != nil {
			select {
			case <-p.exited():
				t.Fatalf("testpmd exited (%v) while nic %s is %v, want %v", p.quit(), id, n.State, want)
			default:
			}
		}
		time.Sleep(pollInterval)
	}
}

// replies sorts the frames the NIC sent: ARP replies, and echo replies by
// sequence number. Other frames are ignored.
type replies struct {
	arp  [][]byte
	echo map[uint16][][]byte
}

func sortReplies(frames [][]byte) replies {
	r := replies{echo: map[uint16][][]byte{}}
	var p packet.Parsed
	for _, f := range frames {
		packet.Parse(f, &p)
		switch {
		case p.Reason != packet.ReasonNone:
		case p.EtherType == packet.EtherTypeARP && p.ARPOp == packet.ARPReply:
			r.arp = append(r.arp, f)
		case p.IPVersion == 4 && p.IPProto == packet.ProtoICMPv4 && p.ICMPType == 0 && len(p.L4(f)) >= 8:
			seq := binary.BigEndian.Uint16(p.L4(f)[6:8])
			r.echo[seq] = append(r.echo[seq], f)
		}
	}
	return r
}

// complete reports whether an ARP reply and a reply to every echo request
// are there.
func (r replies) complete() bool {
	if len(r.arp) == 0 {
		return false
	}
	for seq := range uint16(echoCount) {
		if len(r.echo[seq]) == 0 {
			return false
		}
	}
	return true
}

// waitReplies polls the output pcap, which DPDK's pcap PMD flushes after
// every burst, until every reply arrived, and fails the test if they do not
// within replyTimeout or testpmd exits first.
func waitReplies(t *testing.T, p *testpmd, path string) {
	t.Helper()
	deadline := time.Now().Add(replyTimeout)
	for {
		// The file may not exist yet or end in a record being written:
		// the frames read so far count, the error only explains a timeout.
		frames, err := readPcap(path)
		if sortReplies(frames).complete() {
			return
		}
		if time.Now().After(deadline) {
			for i, f := range frames {
				t.Logf("frame %d from the NIC: % x", i, f)
			}
			t.Fatalf("replies incomplete after %s: %d frames in %s (%v)", replyTimeout, len(frames), path, err)
		}
		select {
		case <-p.exited():
			t.Fatalf("testpmd exited (%v) before the replies arrived: %d frames in %s", p.quit(), len(frames), path)
		case <-time.After(pollInterval):
		}
	}
}

// checkReplies checks every ARP and echo reply in frames, and that each
// request got exactly one.
func checkReplies(t *testing.T, frames [][]byte, mac packet.MAC, ip netip.Addr) {
	t.Helper()
	r := sortReplies(frames)
	if others := len(frames) - len(r.arp) - countEcho(r); others > 0 {
		t.Logf("%d other frames from the NIC", others)
	}
	if len(r.arp) != 1 {
		t.Errorf("%d ARP replies, want 1", len(r.arp))
	}
	for _, f := range r.arp {
		p := packettest.Check(t, f)
		a := packet.ARP(p.L3(f))
		if p.SrcMAC != gwMAC || p.DstMAC != mac || a.SenderMAC() != gwMAC || p.Src != gwIP || a.TargetMAC() != mac || p.Dst != ip {
			t.Errorf("ARP reply: %+v\n% x", p, f)
		}
	}
	for seq := range uint16(echoCount) {
		if n := len(r.echo[seq]); n != 1 {
			t.Errorf("%d replies to echo request %d, want 1", n, seq)
		}
		for _, f := range r.echo[seq] {
			p := packettest.Check(t, f)
			want := packettest.Echo(echoID, seq, echoData)
			if p.SrcMAC != gwMAC || p.DstMAC != mac || p.Src != gwIP || p.Dst != ip || p.ICMPCode != 0 || !bytes.Equal(p.L4(f)[4:], want) {
				t.Errorf("echo reply %d: %+v\n% x", seq, p, f)
			}
		}
	}
}

func countEcho(r replies) int {
	n := 0
	for _, fs := range r.echo {
		n += len(fs)
	}
	return n
}

// checkFeatures logs the virtio features virtio_user's driver negotiated
// with the daemon and checks that they include VERSION_1.
func checkFeatures(t *testing.T, output string) {
	t.Helper()
	m := featuresRE.FindStringSubmatch(output)
	if m == nil {
		t.Fatal("testpmd output names no negotiated features")
	}
	features, err := strconv.ParseUint(m[1], 16, 64)
	if err != nil {
		t.Fatalf("negotiated features %q: %v", m[1], err)
	}
	var names []string
	for bit := range 64 {
		if features&(1<<bit) == 0 {
			continue
		}
		name, ok := featureNames[bit]
		if !ok {
			name = fmt.Sprintf("bit%d", bit)
		}
		names = append(names, name)
	}
	t.Logf("virtio_user negotiated features %#x: %s", features, strings.Join(names, " "))
	if features&(1<<featureVersion1) == 0 {
		t.Error("virtio_user did not negotiate VERSION_1")
	}
}
