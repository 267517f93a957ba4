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
// and reported them.
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
		m := regexp.MustCompile(`BENCH uplink dir=` + dir + ` size=64 mpps=([0-9.]+) gbps=[0-9.]+ cpu_ns_per_pkt=\S+\n`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no BENCH uplink line for dir=%s:\n%s", dir, out.String())
		}
		if mpps, _ := strconv.ParseFloat(m[1], 64); mpps == 0 {
			t.Errorf("dir=%s delivered nothing:\n%s", dir, out.String())
		}
	}
}
