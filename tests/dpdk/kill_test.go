package dpdk_test

import (
	"bufio"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// killCycles is how many times TestVirtioUserKilledMidTraffic kills the
// frontend.
const killCycles = 10

// metric returns the value of the unlabelled metric name in the daemon's
// /metrics.
func metric(t *testing.T, d *daemon.Daemon, name string) float64 {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(d.DebugGet("/metrics")))
	for sc.Scan() {
		l := sc.Text()
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return f
		}
		if v, ok := strings.CutPrefix(l, name+"{"); ok && strings.Contains(v, "} ") {
			f, err := strconv.ParseFloat(v[strings.Index(v, "} ")+2:], 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}

// resources is what a dead frontend must give back.
type resources struct {
	fds, threads int
	rss          float64
}

func (r resources) String() string {
	return fmt.Sprintf("%d fds, %d threads, %.0f MiB RSS", r.fds, r.threads, r.rss/(1<<20))
}

func measure(t *testing.T, d *daemon.Daemon) resources {
	t.Helper()
	return resources{
		fds:     int(metric(t, d, "process_open_fds")),
		threads: int(metric(t, d, "go_threads")),
		rss:     metric(t, d, "process_resident_memory_bytes"),
	}
}

// TestVirtioUserKilledMidTraffic kills testpmd with SIGKILL, again and
// again, while its virtio_user port floods the NIC with echo requests to
// the gateway (a pcap port replaying them forever): each time the NIC
// answers before the kill and returns to CREATED after it, and at the end
// the daemon's descriptors, threads and resident memory are back where
// they were after the second run.
func TestVirtioUserKilledMidTraffic(t *testing.T) {
	bin := testpmdPath(t)
	d := daemon.Start(t, daemon.NewDirs(t))
	nic, mac, ip := createNic(t, d)
	waitNicState(t, d, nic.Id, netpb.NicState_NIC_STATE_CREATED, createdTimeout, nil)
	in := filepath.Join(t.TempDir(), "in.pcap")
	var requests [][]byte
	for seq := range uint16(64) {
		requests = append(requests, packettest.ICMPv4(mac, gwMAC, ip, gwIP, 8, 0, packettest.Echo(echoID, seq, echoData)))
	}
	if err := writePcap(in, requests); err != nil {
		t.Fatal(err)
	}
	rxPackets := func() float64 {
		return metric(t, d, fmt.Sprintf(`mvirt_net_nic_rx_packets_total{network="%s",nic="%s"}`, nic.NetworkId, nic.Id))
	}

	var base resources
	for i := range killCycles + 1 {
		before := rxPackets()
		p := startTestpmd(t, bin, []string{
			"-l", "0,1",
			"--vdev", fmt.Sprintf("net_virtio_user0,path=%s,queues=1,mac=%s", nic.SocketPath, nic.MacAddress),
			"--vdev", fmt.Sprintf("net_pcap0,rx_pcap=%s,tx_pcap=/dev/null,infinite_rx=1", in),
		}, []string{"--forward-mode=io", "--total-num-mbufs=8192"})
		waitNicState(t, d, nic.Id, netpb.NicState_NIC_STATE_ACTIVE, activeTimeout, p)
		// Traffic flows: the gateway's replies reach the frontend.
		deadline := time.Now().Add(replyTimeout)
		for rxPackets() < before+1000 {
			if time.Now().After(deadline) {
				t.Fatalf("run %d: %v replies after %s", i, rxPackets()-before, replyTimeout)
			}
			time.Sleep(pollInterval)
		}
		if i == killCycles {
			// The last run shows traffic after the last kill.
			if err := p.quit(); err != nil {
				t.Fatal(err)
			}
			waitNicState(t, d, nic.Id, netpb.NicState_NIC_STATE_CREATED, createdTimeout, nil)
			break
		}
		if err := p.kill(); err != nil {
			t.Fatal(err)
		}
		waitNicState(t, d, nic.Id, netpb.NicState_NIC_STATE_CREATED, createdTimeout, nil)
		if i == 1 {
			// The first two runs grow the heap and start the threads
			// the daemon keeps; later kills must add nothing.
			base = measure(t, d)
			t.Logf("after the second kill: %s", base)
		}
	}
	// The session's descriptors and the guest memory mapping go with the
	// connection at once; give the kernel's accounting a moment.
	var now resources
	for deadline := time.Now().Add(createdTimeout); ; time.Sleep(pollInterval) {
		now = measure(t, d)
		if now.fds <= base.fds && now.threads <= base.threads+2 && now.rss <= base.rss+32<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d kills: %s, after the second: %s", killCycles, now, base)
		}
	}
	t.Logf("after %d kills: %s", killCycles, now)
}
