package scale

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"mvirt-net/rpc/netpb"
)

// Latency is how CreateNic fared at one concurrency.
type Latency struct {
	Concurrency int
	N           int
	P50, P99    time.Duration
	// Rate is NICs created per second over the whole run.
	Rate float64
	// CPU is the daemon's CPU time per NIC created: unlike the rate and
	// latencies, it barely depends on what else the machine runs.
	CPU time.Duration
}

// createNics creates n NICs in network netID from conc concurrent
// clients and returns their socket paths and the latencies.
func createNics(c netpb.NetServiceClient, pid int, netID string, n, conc int) ([]string, Latency, error) {
	var (
		mu    sync.Mutex
		lat   = make([]time.Duration, 0, n)
		paths = make([]string, 0, n)
		errs  []error
		next  = make(chan struct{}, n)
		wg    sync.WaitGroup
	)
	for range n {
		next <- struct{}{}
	}
	close(next)
	cpu0, err := processCPU(pid)
	if err != nil {
		return nil, Latency{}, err
	}
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				t0 := time.Now()
				nic, err := c.CreateNic(ctx, &netpb.CreateNicRequest{NetworkId: netID})
				d := time.Since(t0)
				cancel()
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					lat, paths = append(lat, d), append(paths, nic.SocketPath)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	total := time.Since(start)
	cpu1, err := processCPU(pid)
	if err != nil {
		return nil, Latency{}, err
	}
	if len(errs) > 0 {
		return nil, Latency{}, fmt.Errorf("scale: %d of %d CreateNic failed, first: %w", len(errs), n, errs[0])
	}
	slices.Sort(lat)
	return paths, Latency{
		Concurrency: conc, N: n,
		P50: lat[len(lat)/2], P99: lat[len(lat)*99/100],
		Rate: float64(n) / total.Seconds(), CPU: (cpu1 - cpu0) / time.Duration(n),
	}, nil
}
