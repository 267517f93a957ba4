package actors

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"mvirt-net/rpc/netpb"
)

// BenchmarkCreateNic32 creates b.N NICs in one network from 32 concurrent
// callers of a real actor tree (store, sockets, reactors; no gRPC), and
// reports the process's CPU time per NIC besides the wall time: unlike the
// rate, the CPU barely depends on what else the machine runs. b.N is
// capped by the network's /16.
func BenchmarkCreateNic32(b *testing.B) {
	const callers = 32
	s, _ := startTree(b)
	n, err := s.Ask(context.Background(), &netpb.CreateNetworkRequest{Name: "bench", Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/16"})
	if err != nil {
		b.Fatal(err)
	}
	netID := n.(*netpb.Network).Id
	work := make(chan struct{}, b.N)
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	cpu0 := processCPU(b)
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			for range work {
				c, cancel := context.WithTimeout(context.Background(), time.Minute)
				_, err := s.Ask(c, &netpb.CreateNicRequest{NetworkId: netID})
				cancel()
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/nic")
}

// processCPU is the user and system CPU time of the process so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
