package bench

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// pollTimeout bounds each wait for an interrupt, so that the traffic
// loops notice their stop flag.
const pollTimeout = 20 * time.Millisecond

// generator keeps a port's transmit ring full of copies of one frame,
// written once into every buffer: sending again is putting a used head
// back on the available ring. It sleeps on the call eventfd until the
// device has taken a quarter of the ring, like a guest driver that reaps
// completions in batches, so it needs no CPU while the device works.
type generator struct {
	r     *ring
	batch uint16
	sent  atomic.Uint64 // frames the device has taken and given back
	cpu   time.Duration // CPU time of the generator's thread, once run returned
}

// newGenerator writes frame (without virtio header) into every transmit
// buffer of p.
func newGenerator(p *port, frame []byte) (*generator, error) {
	if err := fillTx(p.tx, frame); err != nil {
		return nil, err
	}
	return &generator{r: p.tx, batch: p.tx.slots / 4}, nil
}

// fillTx writes a zero virtio header and frame into every buffer of the
// transmit ring r.
func fillTx(r *ring, frame []byte) error {
	if netHdrLen+len(frame) > r.bufSize {
		return fmt.Errorf("bench: %d-byte frame exceeds the %d-byte transmit buffers", len(frame), r.bufSize)
	}
	for i := range r.size {
		b := r.buf(i)
		clear(b[:netHdrLen])
		copy(b[netHdrLen:], frame)
		r.setLen(i, netHdrLen+len(frame))
	}
	return nil
}

// run posts every buffer, then recycles what the device used until stop
// is set. It locks its goroutine to a thread to measure that thread's CPU.
func (g *generator) run(stop *atomic.Bool) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	defer func() { g.cpu = threadCPU() - start }()
	if err := g.start(); err != nil {
		return err
	}
	for !stop.Load() {
		if !g.r.interruptAfter(g.batch) {
			if err := g.r.wait(pollTimeout); err != nil {
				return err
			}
		}
		if err := g.recycle(); err != nil {
			return err
		}
	}
	return nil
}

// start posts every buffer (every chain of a TSO ring).
func (g *generator) start() error {
	for i := range g.r.slots {
		g.r.post(i * g.r.stride)
	}
	return g.r.publish()
}

// recycle posts again every buffer the device has used.
func (g *generator) recycle() error {
	r := g.r
	n := r.pending()
	if n == 0 {
		return nil
	}
	for range n {
		h, _ := r.next()
		r.post(h)
	}
	g.sent.Add(uint64(n))
	return r.publish()
}

// sink receives on a port: it counts frames and bytes and gives every
// buffer straight back, sleeping on the call eventfd until a quarter of
// the ring is used.
type sink struct {
	r      *ring
	batch  uint16
	frames atomic.Uint64 // frames received
	bytes  atomic.Uint64 // their bytes, without virtio headers
	rest   uint16        // buffers of the current frame still to come
	cpu    time.Duration // CPU time of the sink's thread, once run returned
}

// newSink makes a sink of p's receive ring, whose buffers are all posted.
func newSink(p *port) *sink { return &sink{r: p.rx, batch: p.rx.size / 4} }

// run receives until stop is set. It locks its goroutine to a thread to
// measure that thread's CPU.
func (s *sink) run(stop *atomic.Bool) error {
	return receive(s.r, s.batch, stop, s.drain, &s.cpu)
}

// receive is a sink's loop: until stop is set it waits for batch used
// buffers of r (or the poll timeout) and drains them, then drains once
// more. It runs on a thread of its own and leaves that thread's CPU time
// in cpu.
func receive(r *ring, batch uint16, stop *atomic.Bool, drain func() error, cpu *time.Duration) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	defer func() { *cpu = threadCPU() - start }()
	for !stop.Load() {
		if !r.interruptAfter(batch) {
			if err := r.wait(pollTimeout); err != nil {
				return err
			}
		}
		if err := drain(); err != nil {
			return err
		}
	}
	return drain()
}

// drain takes every used buffer, counts the frames (a frame's first
// buffer says in num_buffers how many it spans) and reposts the buffers.
func (s *sink) drain() error {
	r := s.r
	n := r.pending()
	if n == 0 {
		return nil
	}
	var frames, bytes uint64
	for range n {
		h, l := r.next()
		if s.rest == 0 {
			s.rest = max(binary.LittleEndian.Uint16(r.buf(h)[10:]), 1)
			frames++
			bytes -= netHdrLen
		}
		s.rest--
		bytes += uint64(l)
		r.post(h)
	}
	s.frames.Add(frames)
	s.bytes.Add(bytes)
	return r.publish()
}
