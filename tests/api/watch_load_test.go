package api_test

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

// collect reads a NIC watch until the deletion of lastID, or an error.
func collect(s netpb.NetService_WatchNicsClient, lastID string) ([]*netpb.NicEvent, error) {
	var got []*netpb.NicEvent
	for {
		ev, err := s.Recv()
		if err != nil {
			return got, err
		}
		got = append(got, ev)
		if ev.NicId == lastID && ev.Nic == nil {
			return got, nil
		}
	}
}

func sameEvents(a, b []*netpb.NicEvent) bool {
	return slices.EqualFunc(a, b, func(x, y *netpb.NicEvent) bool { return proto.Equal(x, y) })
}

// churn makes events: creates, updates and deletes NICs of network n, and
// deletes last at the end; it returns the last NIC's id.
func churn(t *testing.T, c netpb.NetServiceClient, n *netpb.Network, nics int) string {
	t.Helper()
	var ids []string
	for i := range nics {
		nic := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: fmt.Sprintf("churn-%d", i)})
		ids = append(ids, nic.Id)
		if _, err := c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: nic.Id, RoutedIpv4Prefixes: []string{fmt.Sprintf("10.8.%d.0/24", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		if _, err := c.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: id}); err != nil {
			t.Fatal(err)
		}
	}
	return ids[len(ids)-1]
}

// TestWatch200Watchers: 200 concurrent watchers all see the same snapshot
// and the same events in the same order.
func TestWatch200Watchers(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	n := mustNetwork(t, c, dual("many"))
	present := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "present"})

	const watchers = 200
	conns := make([]netpb.NetServiceClient, 10)
	for i := range conns {
		conns[i] = dial(t, d)
	}
	streams := make([]netpb.NetService_WatchNicsClient, watchers)
	for i := range streams {
		streams[i] = watchNics(t, conns[i%len(conns)])
	}
	// Every watch has begun once its snapshot event arrived; snapshots
	// are taken one per watcher, so only their timestamps may differ.
	for i, s := range streams {
		ev := nextNic(t, s)
		ev.Timestamp = 0
		if ev.NicId != present.Id || !proto.Equal(ev.Nic, present) {
			t.Fatalf("watcher %d snapshot %v, want %v", i, ev, present)
		}
	}
	last := churn(t, c, n, 10)
	got := make([][]*netpb.NicEvent, watchers)
	errs := make([]error, watchers)
	var wg sync.WaitGroup
	for i, s := range streams {
		wg.Go(func() { got[i], errs[i] = collect(s, last) })
	}
	wg.Wait()
	for i := range streams {
		if errs[i] != nil {
			t.Fatalf("watcher %d: %v", i, errs[i])
		}
		if !sameEvents(got[i], got[0]) {
			t.Fatalf("watcher %d saw another sequence than watcher 0", i)
		}
	}
	if len(got[0]) != 10*3 {
		t.Fatalf("%d events, want 30 (10 creates, updates, deletes)", len(got[0]))
	}
	for i, ev := range got[0][:20] {
		if ev.Nic == nil || ev.Nic.Name != fmt.Sprintf("churn-%d", i/2) || (i%2 == 1) != (len(ev.Nic.RoutedIpv4Prefixes) == 1) {
			t.Fatalf("event %d out of order: %v", i, ev)
		}
	}
}

// TestWatchStalledWatcher: a watcher that never reads is ended with
// ResourceExhausted after a prefix of the events without a hole, while
// the others see everything; CreateNic latency is logged with and without
// the stalled watcher (timing is reported, not asserted). The events are
// mostly state changes of a NIC that a simulated VMM connects to and
// leaves again and again.
func TestWatchStalledWatcher(t *testing.T) {
	// Every stream lives for the whole test, which takes far longer under
	// -race on a loaded machine than watchNics' minute; the bound only
	// ends a test that hangs.
	const streamLimit = 10 * time.Minute
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	n := mustNetwork(t, c, &netpb.CreateNetworkRequest{Name: "stall", Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/24"})
	// 100 routed prefixes make the flapping NIC's events about 2 KiB, to
	// fill the stalled stream's flow-control window soon.
	routes := make([]string, 100)
	for i := range routes {
		routes[i] = fmt.Sprintf("10.100.%d.0/24", i)
	}
	flapper := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "flapper", RoutedIpv4Prefixes: routes})
	// pace is a watcher the rounds read themselves: each connect and each
	// leave of the VMM waits for the flapper's state event, so that every
	// flap makes exactly two events, however the machine's load would
	// have merged quick states.
	pace := watchNicsFor(t, dial(t, d), streamLimit)
	nextNic(t, pace)
	awaitFlapper := func(want netpb.NicState) {
		t.Helper()
		for {
			if ev := nextNic(t, pace); ev.NicId == flapper.Id && ev.Nic.GetState() == want {
				return
			}
		}
	}
	round := func(label string, count int) ([]time.Duration, []string) {
		lat := make([]time.Duration, 0, count)
		var ids []string
		for i := range count {
			start := time.Now()
			nic := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: fmt.Sprintf("%s-%d", label, i)})
			lat, ids = append(lat, time.Since(start)), append(ids, nic.Id)
			for range 20 {
				g, err := vmm.Connect(flapper.SocketPath, vmm.GuestConfig{QueueSize: 64})
				if err != nil {
					t.Fatal(err)
				}
				awaitFlapper(netpb.NicState_NIC_STATE_ACTIVE)
				g.Close()
				awaitFlapper(netpb.NicState_NIC_STATE_CREATED)
			}
		}
		return lat, ids
	}
	const active = 20
	streams := make([]netpb.NetService_WatchNicsClient, active)
	got := make([][]*netpb.NicEvent, active)
	errs := make([]error, active)
	var wg sync.WaitGroup
	for i := range streams {
		streams[i] = watchNicsFor(t, dial(t, d), streamLimit)
		nextNic(t, streams[i])
		wg.Go(func() { got[i], errs[i] = collect(streams[i], flapper.Id) })
	}
	without, _ := round("before", 10)

	// The stalled client's flow-control window is fixed: with the default
	// one, grown by bandwidth estimates, how much it takes in before the
	// daemon has to hold events back would depend on the machine's load.
	// It reads nothing, not even its snapshot, so the test learns that
	// its watch has begun from the daemon's count of NIC watchers.
	const window = 64 << 10
	stalled := watchNicsFor(t, dial(t, d, grpc.WithInitialWindowSize(window), grpc.WithInitialConnWindowSize(window)), streamLimit)
	waitMetric(t, d, `mvirt_net_watchers{kind="nic"}`, active+2)
	with, ids := round("during", 25)
	if _, err := c.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: flapper.Id}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i := range streams {
		if errs[i] != nil || !sameEvents(got[i], got[0]) {
			t.Fatalf("active watcher %d: %v, or another sequence than watcher 0", i, errs[i])
		}
	}
	// Where the stalled watcher began in the others' sequence: its first
	// event after the snapshot is the creation of the first NIC made after
	// it began.
	start := slices.IndexFunc(got[0], func(ev *netpb.NicEvent) bool { return ev.NicId == ids[0] })
	if start < 0 {
		t.Fatal("the active watchers never saw the first NIC made after the stalled watcher began")
	}
	var seen []*netpb.NicEvent
	var err error
	for err == nil {
		var ev *netpb.NicEvent
		if ev, err = stalled.Recv(); err == nil {
			seen = append(seen, ev)
		}
	}
	wantCode(t, err, codes.ResourceExhausted)
	snap := 1 + 10 // the flapper and the NICs of the first round
	if len(seen) <= snap {
		t.Fatalf("stalled watcher got %d events, not even its snapshot of %d", len(seen), snap)
	}
	after := seen[snap:]
	if len(after) >= len(got[0])-start || !sameEvents(after, got[0][start:start+len(after)]) {
		t.Fatalf("stalled watcher's %d events are not a prefix of the others' %d events after its snapshot", len(after), len(got[0])-start)
	}
	t.Logf("stalled watcher got %d of %d events before ResourceExhausted: %v", len(after), len(got[0])-start, err)
	t.Logf("CreateNic latency without a stalled watcher: %s; with one: %s", summary(without), summary(with))
	if v := metric(t, d, `mvirt_net_watchers_dropped_total{kind="nic"}`); v != 1 {
		t.Fatalf("mvirt_net_watchers_dropped_total = %v, want 1", v)
	}
}

func summary(lat []time.Duration) string {
	s := slices.Clone(lat)
	slices.Sort(s)
	return fmt.Sprintf("median %s, p90 %s, max %s", s[len(s)/2], s[len(s)*9/10], s[len(s)-1])
}

// waitMetric waits until one sample of the daemon's /metrics is want; ten
// seconds only bound a wait that would never end.
func waitMetric(t *testing.T, d *daemon.Daemon, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v := metric(t, d, name)
		if v == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", name, v, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// metric reads one sample of the daemon's /metrics, by its full name and
// labels.
func metric(t *testing.T, d *daemon.Daemon, name string) float64 {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(d.DebugGet("/metrics")))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}

// TestWatchStreamsDoNotLeak opens and drops thousands of streams (read or
// not): the daemon's goroutines, watchers and live heap come back to
// their baseline.
func TestWatchStreamsDoNotLeak(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	n := mustNetwork(t, c, dual("leak"))
	for i := range 20 {
		mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: fmt.Sprintf("leak-%d", i)})
	}
	heap := func() float64 {
		d.DebugGet("/debug/pprof/heap?gc=1")
		return metric(t, d, "go_memstats_heap_alloc_bytes")
	}
	// One round first, so that lazily made pools and caches exist before
	// the baseline. Both rounds share one connection: the server's
	// goroutines of a second one would count as a leak.
	conn := dial(t, d)
	open := func(count int) {
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < count; i += 8 {
					sctx, cancel := context.WithCancel(context.Background())
					if i%2 == 0 {
						s, err := conn.WatchNics(sctx, &netpb.WatchNicsRequest{})
						if err == nil && i%4 == 0 {
							_, _ = s.Recv()
						}
					} else {
						s, err := conn.WatchNetworks(sctx, &netpb.WatchNetworksRequest{})
						if err == nil && i%4 == 1 {
							_, _ = s.Recv()
						}
					}
					cancel()
				}
			})
		}
		wg.Wait()
	}
	open(200)
	gors, mem := metric(t, d, "go_goroutines"), heap()
	open(4000)
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, h := metric(t, d, "go_goroutines"), heap()
		w := metric(t, d, `mvirt_net_watchers{kind="nic"}`) + metric(t, d, `mvirt_net_watchers{kind="network"}`)
		if g <= gors+3 && h <= mem+4<<20 && w == 0 {
			t.Logf("after 4000 streams: goroutines %v (baseline %v), heap %.1f MiB (baseline %.1f MiB)", g, gors, h/(1<<20), mem/(1<<20))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 4000 streams: goroutines %v (baseline %v), heap %.0f (baseline %.0f), watchers %v", g, gors, h, mem, w)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
