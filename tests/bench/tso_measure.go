package bench

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// tsoThroughput is what one TSO-mode run delivered in its window.
type tsoThroughput struct {
	Sent       uint64        // super-frames the back-end took from the generator
	Frames     uint64        // frames the sink received
	GSO        uint64        // of which super-frames
	Payload    uint64        // TCP payload bytes received
	Elapsed    time.Duration // length of the window
	BackendCPU time.Duration // the back-end process's CPU time in the window
	// Checked frames were compared byte for byte over the whole run, Bad
	// of them failed, the first because of FirstBad.
	Checked, Bad uint64
	FirstBad     string
	// Stall, if the window delivered nothing, is the state of both rings
	// at its end.
	Stall string
	// GenNs and SinkNs are the harness threads' CPU nanoseconds per
	// super-frame sent and per frame received over the whole run.
	GenNs, SinkNs float64
}

// Gbps returns the delivered TCP payload bit rate.
func (t tsoThroughput) Gbps() float64 { return float64(t.Payload) * 8 / t.Elapsed.Seconds() / 1e9 }

// CPUPerGB returns the back-end's CPU seconds per GB of TCP payload
// delivered, NaN if none was.
func (t tsoThroughput) CPUPerGB() float64 {
	if t.Payload == 0 {
		return math.NaN()
	}
	return t.BackendCPU.Seconds() / (float64(t.Payload) / 1e9)
}

// FramesPerSuper returns the frames delivered per super-frame sent.
func (t tsoThroughput) FramesPerSuper() float64 {
	if t.Sent == 0 {
		return math.NaN()
	}
	return float64(t.Frames) / float64(t.Sent)
}

// runTSO sends super-frames of the stream from src to dst on a (a TSO
// port) through the back-end to b and measures the window w.
func runTSO(a, b *port, src, dst endpoint, w window, cpu cpuFunc) (tsoThroughput, error) {
	fillTSO(a.tx, src, dst)
	gen := &generator{r: a.tx, batch: max(a.tx.slots/4, 1)}
	snk := newTSOSink(b, src, dst)
	var stop atomic.Bool
	errs := make(chan error, 2)
	go func() { errs <- gen.run(&stop) }()
	go func() { errs <- snk.run(&stop) }()
	time.Sleep(w.Warmup)
	sent0, frames0, gso0, payload0 := gen.sent.Load(), snk.frames.Load(), snk.gso.Load(), snk.payload.Load()
	cpu0, err0 := cpu()
	start := time.Now()
	time.Sleep(w.Measure)
	sent1, frames1, gso1, payload1 := gen.sent.Load(), snk.frames.Load(), snk.gso.Load(), snk.payload.Load()
	cpu1, err1 := cpu()
	t := tsoThroughput{
		Sent: sent1 - sent0, Frames: frames1 - frames0, GSO: gso1 - gso0, Payload: payload1 - payload0,
		Elapsed: time.Since(start), BackendCPU: cpu1 - cpu0,
	}
	stop.Store(true)
	err := errors.Join(err0, err1, <-errs, <-errs)
	if t.Frames == 0 {
		t.Stall = fmt.Sprintf("generator TX ring %s; sink RX ring %s", a.tx.state(), b.rx.state())
	}
	t.Checked, t.Bad, t.FirstBad = snk.Checked, snk.Bad, snk.FirstBad
	if n := gen.sent.Load(); n > 0 {
		t.GenNs = float64(gen.cpu.Nanoseconds()) / float64(n)
	}
	if n := snk.frames.Load(); n > 0 {
		t.SinkNs = float64(snk.cpu.Nanoseconds()) / float64(n)
	}
	return t, err
}
