package bench

import (
	"errors"
	"time"
)

// idleSettle is how long connected idle NICs are left alone before the
// measurement: for handshakes and first announcements to pass, and for the
// Go runtime's background scavenger, which returns memory after the
// throughput runs at about 1 % of a CPU, to finish.
const idleSettle = 10 * time.Second

// idleCost creates a network of n NICs, connects a harness port to each
// and sends nothing, then returns the daemon's CPU use over d, in percent
// of one core. With profile set, a CPU profile of the daemon over the same
// window is written there.
func idleCost(o *ourDaemon, n int, d time.Duration, profile string) (pct float64, err error) {
	nics, err := o.createNetwork("bench-idle", "10.1.0.0/24", n)
	if err != nil {
		return 0, err
	}
	cfg := portConfig{QueueSize: 256, RxBufSize: 2048, TxBufSize: 2048}
	ports := make([]*port, 0, n)
	defer func() {
		for _, p := range ports {
			p.close()
		}
	}()
	for _, nic := range nics {
		p, err := dialPort(nic.Socket, cfg)
		if err != nil {
			return 0, err
		}
		ports = append(ports, p)
	}
	time.Sleep(idleSettle)
	profiled := make(chan error, 1)
	if profile != "" {
		go func() { profiled <- o.profile(profile, d) }()
	} else {
		profiled <- nil
	}
	cpu0, err0 := o.cpu()
	start := time.Now()
	time.Sleep(d)
	cpu1, err1 := o.cpu()
	if err := errors.Join(err0, err1, <-profiled); err != nil {
		return 0, err
	}
	return 100 * (cpu1 - cpu0).Seconds() / time.Since(start).Seconds(), nil
}
