package dataplane_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// memoryInUse returns the daemon's live heap after a forced collection
// (the heap profile handler collects first when asked, gc=1, and /metrics
// then reports the heap as that collection left it) plus the inboxes'
// packet memory, which is mapped outside the heap and unmapped by the
// cleanups that collections run.
func memoryInUse(t *testing.T, d *daemon.Daemon) uint64 {
	t.Helper()
	res, err := d.HTTPClient().Get(d.DebugURL("/debug/pprof/heap?gc=1"))
	if err != nil {
		t.Fatalf("force a collection: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("force a collection: /debug/pprof/heap answers %s", res.Status)
	}
	metrics := d.DebugGet("/metrics")
	return metric(t, metrics, "go_memstats_heap_inuse_bytes") + metric(t, metrics, "mvirt_net_inbox_mapped_bytes")
}

// metric is the value of the metric name in a /metrics page.
func metric(t *testing.T, metrics, name string) uint64 {
	t.Helper()
	for _, l := range strings.Split(metrics, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s %q: %v", name, v, err)
			}
			return uint64(f)
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}

// Churn sizes: rounds of churnBatch NICs created, then deleted, several
// clients at once; a NIC holds a 1 MiB inbox while it lives. A batch is
// nearly a /24 network's worth, so that many NICs live at once.
const (
	churnRounds  = 5
	churnBatch   = 200
	churnClients = 8
)

// churn runs do for every element of items, from churnClients goroutines.
func churn[T any](t *testing.T, items []T, do func(T) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(items))
	next := make(chan T)
	for range churnClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range next {
				if err := do(it); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, it := range items {
		next <- it
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestNicChurnFreesMemory creates and deletes a thousand NICs, many
// alive at once, from several clients at once, next to two NICs whose
// guests route to each other (so reactors hold route tables in which the
// deleted NICs were), and checks that the live heap and the inboxes'
// mapped memory come back near where they were: nothing keeps a deleted
// NIC's inbox.
func TestNicChurnFreesMemory(t *testing.T) {
	// --debug-pprof: memoryInUse collects through the heap profile handler.
	d := daemon.Start(t, daemon.NewDirs(t), "--debug-pprof")
	n := createNetwork(t, d, "net")
	a := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	b := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id})
	exchange := func(seq uint16) {
		t.Helper()
		if err := a.g.Send(echo4(a, b.ip, 64, seq)); err != nil {
			t.Fatal(err)
		}
		expectRouted(t, b, a.ip, 63)
	}
	exchange(0)
	before := memoryInUse(t, d)

	for round := range churnRounds {
		var mu sync.Mutex
		var ids []string
		churn(t, make([]int, churnBatch), func(int) error {
			nic, err := d.Client.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: n.Id})
			if err != nil {
				return err
			}
			mu.Lock()
			ids = append(ids, nic.Id)
			mu.Unlock()
			return nil
		})
		// a and b look up routes in the table of this moment; idle
		// afterwards, they keep it.
		exchange(uint16(1 + round))
		churn(t, ids, func(id string) error {
			_, err := d.Client.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: id})
			return err
		})
	}
	exchange(9999)
	// A leaked inbox is about 1 MiB: 32 MiB more is a leak of a few
	// percent of the NICs, far above what the daemon's caches hold. The
	// cleanups that unmap inboxes run after the collection that found
	// them unreachable, so a few collections are given.
	var after uint64
	for range 20 {
		if after = memoryInUse(t, d); after <= before+32<<20 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cycles := churnRounds * churnBatch
	t.Logf("live heap and inbox memory %d MiB before %d NIC create / delete cycles, %d MiB after", before>>20, cycles, after>>20)
	if after > before+32<<20 {
		t.Fatalf("live heap and inbox memory grew from %d to %d MiB over %d NIC create / delete cycles", before>>20, after>>20, cycles)
	}
}
