package bench

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// latencyConfig bounds a ping-pong run.
type latencyConfig struct {
	Warmup  int           // round trips before measuring
	Samples int           // round trips to measure
	MaxTime time.Duration // stop measuring after this long even if short of Samples
	Timeout time.Duration // a round trip not back after this is lost
	MaxLost int           // give up after this many lost round trips
}

// latency is the outcome of a ping-pong run.
type latency struct {
	Samples        int
	Lost           int
	P50, P99, P999 time.Duration
}

// errTooManyLost ends a ping-pong run whose frames do not come back.
var errTooManyLost = errors.New("bench: too many round trips lost")

// pingPong measures round trips of single frames A→B→A: A sends ping,
// B's harness sends pong as soon as it sees ping, A's harness stops the
// clock when pong arrives. Both sides busy-poll with interrupts off, in
// one goroutine, so the harness adds no wake-up latency of its own.
func pingPong(a, b *port, ping, pong []byte, cfg latencyConfig) (latency, error) {
	ea, err := newEchoSide(a, ping, len(pong))
	if err != nil {
		return latency{}, err
	}
	eb, err := newEchoSide(b, pong, len(ping))
	if err != nil {
		return latency{}, err
	}
	rtts := make([]time.Duration, 0, cfg.Samples)
	var out latency
	deadline := time.Now().Add(cfg.MaxTime)
	for i := 0; len(rtts) < cfg.Samples && time.Now().Before(deadline); i++ {
		rtt, ok, err := roundTrip(ea, eb, cfg.Timeout)
		if err != nil {
			return out, err
		}
		if !ok {
			if out.Lost++; out.Lost > cfg.MaxLost {
				return out, fmt.Errorf("%w: %d", errTooManyLost, out.Lost)
			}
			continue
		}
		if i >= cfg.Warmup {
			rtts = append(rtts, rtt)
		}
	}
	if len(rtts) == 0 {
		return out, errors.New("bench: no round trip measured")
	}
	slices.Sort(rtts)
	pick := func(q float64) time.Duration { return rtts[min(len(rtts)-1, int(q*float64(len(rtts))))] }
	out.Samples, out.P50, out.P99, out.P999 = len(rtts), pick(0.50), pick(0.99), pick(0.999)
	return out, nil
}

// roundTrip sends from a, echoes at b, and returns the time until a has
// the echo; ok is false if a frame was lost, after which both receive
// rings are drained of late arrivals.
func roundTrip(a, b *echoSide, timeout time.Duration) (time.Duration, bool, error) {
	start := time.Now()
	deadline := start.Add(timeout)
	if err := a.send(); err != nil {
		return 0, false, err
	}
	ok, err := b.receive(deadline)
	if err != nil || !ok {
		return 0, false, errors.Join(err, drainLate(a, b))
	}
	if err := b.send(); err != nil {
		return 0, false, err
	}
	ok, err = a.receive(deadline)
	rtt := time.Since(start)
	if err != nil || !ok {
		return 0, false, errors.Join(err, drainLate(a, b))
	}
	return rtt, true, nil
}

// drainLate waits a little for frames that come after their timeout.
func drainLate(a, b *echoSide) error {
	until := time.Now().Add(10 * time.Millisecond)
	_, errA := a.receive(until)
	_, errB := b.receive(until)
	return errors.Join(errA, errB)
}

// echoSide is one port in a ping-pong: every transmit buffer holds the
// frame it sends, free heads wait on a stack until sent, and a received
// frame counts if it has the length of the one the other side sends.
type echoSide struct {
	p    *port
	free []uint16
	want uint32 // used length of the awaited frame, virtio header included
}

func newEchoSide(p *port, frame []byte, awaited int) (*echoSide, error) {
	if err := fillTx(p.tx, frame); err != nil {
		return nil, err
	}
	s := &echoSide{p: p, want: uint32(netHdrLen + awaited)}
	for i := range p.tx.size {
		s.free = append(s.free, i)
	}
	p.rx.interruptsOff()
	p.tx.interruptsOff()
	return s, nil
}

// send reclaims used transmit buffers and sends one frame.
func (s *echoSide) send() error {
	r := s.p.tx
	for range r.pending() {
		h, _ := r.next()
		s.free = append(s.free, h)
	}
	if len(s.free) == 0 {
		return errors.New("bench: no free transmit buffer: the back-end keeps them all")
	}
	r.post(s.free[len(s.free)-1])
	s.free = s.free[:len(s.free)-1]
	return r.publish()
}

// receive spins until the awaited frame arrived (others are skipped) or
// deadline passes, reposting every buffer it takes.
func (s *echoSide) receive(deadline time.Time) (bool, error) {
	r := s.p.rx
	for spins := 0; ; spins++ {
		got := false
		for range r.pending() {
			h, n := r.next()
			got = got || n == s.want
			r.post(h)
		}
		if err := r.publish(); err != nil {
			return false, err
		}
		if got {
			return true, nil
		}
		if spins%256 == 0 && time.Now().After(deadline) {
			return false, nil
		}
	}
}
