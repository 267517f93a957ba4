package bench

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestUplinkRunDelivers runs the uplink measurement briefly at 64 B and
// checks that both directions delivered packets through the real daemon
// and reported them, with what was sent into the path and where drops
// were counted, and that the kernel-only comparison ran.
func TestUplinkRunDelivers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	var out bytes.Buffer
	cfg := Config{Sizes: []int{64}, Warmup: 200 * time.Millisecond, Measure: 500 * time.Millisecond, QueueSize: 256}
	if err := RunUplink(cfg, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log(out.String())
	for _, dir := range []string{"out", "in"} {
		m := regexp.MustCompile(`BENCH uplink dir=` + dir + ` size=64 mpps=([0-9.]+) gbps=[0-9.]+ cpu_ns_per_pkt=\S+ sent_mpps=([0-9.]+) drop_pct=\S+\n` +
			`uplink dir=` + dir + ` size=64 drops \(whole run\): .*tun_tx_dropped=\d+ udp_rcvbuf_errors=\d+\n`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no BENCH uplink line and drop line for dir=%s:\n%s", dir, out.String())
		}
		mpps, _ := strconv.ParseFloat(m[1], 64)
		sent, _ := strconv.ParseFloat(m[2], 64)
		if mpps == 0 || sent == 0 {
			t.Errorf("dir=%s sent %.3f Mpps and delivered %.3f:\n%s", dir, sent, mpps, out.String())
		}
		v := regexp.MustCompile(`BENCH uplink_veth dir=` + dir + ` size=64 mpps=([0-9.]+) `).FindStringSubmatch(out.String())
		if v == nil {
			t.Fatalf("no kernel-only comparison for dir=%s:\n%s", dir, out.String())
		}
		if mpps, _ := strconv.ParseFloat(v[1], 64); mpps == 0 {
			t.Errorf("the kernel-only comparison for dir=%s delivered nothing:\n%s", dir, out.String())
		}
	}
}
