package bench

import (
	"errors"
	"math"
	"sync/atomic"
	"time"
)

// window is how long a throughput run warms up and then measures.
type window struct {
	Warmup, Measure time.Duration
}

// throughput is what one run delivered in its measuring window.
type throughput struct {
	Size       int
	Sent       uint64        // frames the back-end took from the generator
	Frames     uint64        // frames the sink received
	Bytes      uint64        // their bytes (Ethernet frames, no virtio header)
	Elapsed    time.Duration // length of the window
	BackendCPU time.Duration // the back-end process's CPU time in the window
	// GenNs and SinkNs are the harness threads' CPU nanoseconds per frame
	// over the whole run.
	GenNs, SinkNs float64
}

// Mpps returns the delivered frame rate.
func (t throughput) Mpps() float64 { return float64(t.Frames) / t.Elapsed.Seconds() / 1e6 }

// Gbps returns the delivered bit rate of the frames.
func (t throughput) Gbps() float64 { return float64(t.Bytes) * 8 / t.Elapsed.Seconds() / 1e9 }

// Drops returns the frames taken but not delivered in the window.
func (t throughput) Drops() int64 { return int64(t.Sent) - int64(t.Frames) }

// CPUPerMpkt returns the back-end's CPU seconds per million delivered
// frames, NaN if none was delivered.
func (t throughput) CPUPerMpkt() float64 {
	if t.Frames == 0 {
		return math.NaN()
	}
	return t.BackendCPU.Seconds() / (float64(t.Frames) / 1e6)
}

// cpuFunc returns a back-end's CPU time so far.
type cpuFunc func() (time.Duration, error)

// runThroughput blasts frame from a to b through the back-end they are
// connected to and measures the window w.
func runThroughput(a, b *port, frame []byte, w window, cpu cpuFunc) (throughput, error) {
	gen, err := newGenerator(a, frame)
	if err != nil {
		return throughput{}, err
	}
	snk := newSink(b)
	var stop atomic.Bool
	errs := make(chan error, 2)
	go func() { errs <- gen.run(&stop) }()
	go func() { errs <- snk.run(&stop) }()
	t := throughput{Size: len(frame)}
	time.Sleep(w.Warmup)
	sent0, frames0, bytes0 := gen.sent.Load(), snk.frames.Load(), snk.bytes.Load()
	cpu0, err0 := cpu()
	start := time.Now()
	time.Sleep(w.Measure)
	sent1, frames1, bytes1 := gen.sent.Load(), snk.frames.Load(), snk.bytes.Load()
	cpu1, err1 := cpu()
	t.Elapsed = time.Since(start)
	stop.Store(true)
	err = errors.Join(err0, err1, <-errs, <-errs)
	t.Sent, t.Frames, t.Bytes, t.BackendCPU = sent1-sent0, frames1-frames0, bytes1-bytes0, cpu1-cpu0
	if n := gen.sent.Load(); n > 0 {
		t.GenNs = float64(gen.cpu.Nanoseconds()) / float64(n)
	}
	if n := snk.frames.Load(); n > 0 {
		t.SinkNs = float64(snk.cpu.Nanoseconds()) / float64(n)
	}
	return t, err
}
