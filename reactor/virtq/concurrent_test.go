package virtq_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"mvirt-net/reactor/virtq"
	"mvirt-net/tests/vmm"
)

// wraparoundFrames is more than 2^16, so that every ring index wraps.
const wraparoundFrames = 70_000

// doorbell plays an eventfd: rings coalesce, a wait consumes them all.
type doorbell chan struct{}

func newDoorbell() doorbell { return make(doorbell, 1) }

func (d doorbell) ring() {
	select {
	case d <- struct{}{}:
	default:
	}
}

// wait blocks until the doorbell rang; false means it did not within a
// generous time, which here means a notification was lost.
func (d doorbell) wait() bool {
	select {
	case <-d:
		return true
	case <-time.After(10 * time.Second):
		return false
	}
}

// TestConcurrentTx runs driver and device on separate goroutines through a
// 256-entry queue, each suppressing the other's notifications as Linux and
// vhost do and sleeping until notified. A lost kick or interrupt shows as a
// timeout; a torn index or misordered access as a wrong frame.
func TestConcurrentTx(t *testing.T) {
	for _, eventIdx := range []bool{false, true} {
		for _, indirect := range []bool{false, true} {
			t.Run(fmt.Sprintf("eventidx=%v/indirect=%v", eventIdx, indirect), func(t *testing.T) {
				t.Parallel()
				dc := vmm.DriverQueueConfig{Size: 256, EventIdx: eventIdx, Indirect: indirect, AvailOddWord: eventIdx}
				p := newPair(t, dc, features(dc, 0), virtq.DeviceReads)
				kick, call := newDoorbell(), newDoorbell()
				var wg sync.WaitGroup
				wg.Add(2)
				go func() { defer wg.Done(); txDevice(t, p, kick, call) }()
				go func() { defer wg.Done(); txDriver(t, p, kick, call) }()
				wg.Wait()
			})
		}
	}
}

// txDevice consumes wraparoundFrames frames and checks each.
func txDevice(t *testing.T, p *pair, kick, call doorbell) {
	c := virtq.NewChain(8)
	serve(t, p, kick, call, func(seq int) (more, failed bool) {
		ok, f := p.dev.Pop(&c)
		if f != virtq.FaultNone {
			t.Errorf("device: frame %d: %v", seq, f)
			return false, true
		}
		if !ok {
			return false, false
		}
		got := gather(c.ReadSegs())
		want := frameFor(seq, frameLen(seq, 600))
		if len(got) < vmm.NetHeaderLen || got[6] != byte(seq) || !bytes.Equal(got[vmm.NetHeaderLen:], want) {
			t.Errorf("device: frame %d differs", seq)
			return false, true
		}
		p.dev.AddUsed(c.Head, 0)
		return true, false
	})
}

// txDriver sends wraparoundFrames frames and reaps their chains.
func txDriver(t *testing.T, p *pair, kick, call doorbell) {
	sent := 0
	drive(t, p, kick, call, func() bool {
		for sent < wraparoundFrames && p.drv.FreeDescs() >= 2 {
			if _, err := p.drv.AddTX(vmm.NetHeader{CsumStart: uint16(sent)}, frameFor(sent, frameLen(sent, 600))); err != nil {
				t.Errorf("driver: %v", err)
				return false
			}
			sent++
		}
		return true
	}, func(int) (int, bool) {
		reaped := 0
		for {
			_, ok, err := p.drv.GetUsed()
			if err != nil {
				t.Errorf("driver: %v", err)
				return reaped, false
			}
			if !ok {
				return reaped, true
			}
			reaped++
		}
	})
}

// TestConcurrentRx is TestConcurrentTx for the receive direction, with
// and without mergeable buffers.
func TestConcurrentRx(t *testing.T) {
	for _, eventIdx := range []bool{false, true} {
		for _, mergeable := range []bool{false, true} {
			t.Run(fmt.Sprintf("eventidx=%v/mergeable=%v", eventIdx, mergeable), func(t *testing.T) {
				t.Parallel()
				dc := vmm.DriverQueueConfig{Size: 256, EventIdx: eventIdx, BufSize: 2048}
				var extra virtq.Features
				if mergeable {
					dc.BufSize = 256
					extra = virtq.FeatureNetMrgRxBuf
				}
				p := newPair(t, dc, features(dc, extra), virtq.DeviceWrites)
				kick, call := newDoorbell(), newDoorbell()
				var wg sync.WaitGroup
				wg.Add(2)
				go func() { defer wg.Done(); rxDevice(t, p, kick, call) }()
				go func() { defer wg.Done(); rxDriver(t, p, dc.BufSize, mergeable, kick, call) }()
				wg.Wait()
			})
		}
	}
}

// rxDevice delivers wraparoundFrames frames, waiting for buffers when the
// queue runs dry.
func rxDevice(t *testing.T, p *pair, kick, call doorbell) {
	c := virtq.NewChain(8)
	serve(t, p, kick, call, func(seq int) (more, failed bool) {
		if seq == wraparoundFrames {
			return false, false
		}
		r, f := deliver(p, &c, frameFor(seq, frameLen(seq, 1514)))
		if r == virtq.RxFault || r == virtq.RxTooBig {
			t.Errorf("device: frame %d: %v %v", seq, r, f)
			return false, true
		}
		return r != virtq.RxNoBuffers, false
	})
}

// rxDriver keeps the queue full of buffers and checks every frame.
func rxDriver(t *testing.T, p *pair, bufSize int, mergeable bool, kick, call doorbell) {
	drive(t, p, kick, call, func() bool {
		for p.drv.FreeDescs() > 0 {
			if _, err := p.drv.AddRX(bufSize); err != nil {
				t.Errorf("driver: %v", err)
				return false
			}
		}
		return true
	}, func(seq int) (int, bool) {
		got := 0
		for ; ; seq++ {
			hdr, frame, ok, err := p.drv.RecvFrame(mergeable)
			if err != nil {
				t.Errorf("driver: frame %d: %v", seq, err)
				return got, false
			}
			if !ok {
				return got, true
			}
			if hdr.Flags != vmm.NetHdrFDataValid || !bytes.Equal(frame, frameFor(seq, frameLen(seq, 1514))) {
				t.Errorf("driver: frame %d differs (%d bytes)", seq, len(frame))
				return got, false
			}
			got++
		}
	})
}

// serve is the device side of a concurrent test. With notifications
// suppressed it calls handle for frame after frame until handle reports the
// queue empty (more false), publishing used entries every 32 frames and at
// the end of each batch and interrupting the driver when it asks; then it
// re-enables notifications and, if the driver added nothing meanwhile,
// sleeps until kicked. It returns after wraparoundFrames frames, or once
// handle has reported an error (failed true).
func serve(t *testing.T, p *pair, kick, call doorbell, handle func(seq int) (more, failed bool)) {
	publish := func() {
		p.dev.Publish()
		if p.dev.NeedsNotify() {
			call.ring()
		}
	}
	seq := 0
	for seq < wraparoundFrames {
		p.dev.DisableNotify()
		for batch := 0; ; batch++ {
			more, failed := handle(seq)
			if failed {
				return
			}
			if !more {
				break
			}
			seq++
			if batch%32 == 31 {
				publish()
			}
		}
		publish()
		if seq == wraparoundFrames || p.dev.EnableNotify() {
			continue
		}
		if !kick.wait() {
			t.Errorf("device: no kick after frame %d: lost notification", seq)
			return
		}
	}
}

// drive is the driver side of a concurrent test. With interrupts
// suppressed it calls fill to add descriptors, kicks the device when it
// asks, and calls take, which is given the number of frames done so far, to
// take the used ones; when take found none it re-enables interrupts and,
// if the device used nothing meanwhile, sleeps until interrupted. It
// returns after wraparoundFrames frames, or once fill or take has reported
// an error (false).
func drive(t *testing.T, p *pair, kick, call doorbell, fill func() bool, take func(done int) (n int, ok bool)) {
	p.drv.DisableInterrupts()
	done := 0
	for done < wraparoundFrames {
		if !fill() {
			return
		}
		if p.drv.Publish() {
			kick.ring()
		}
		n, ok := take(done)
		if !ok {
			return
		}
		done += n
		if n > 0 || done == wraparoundFrames {
			continue
		}
		if p.drv.EnableInterrupts() {
			p.drv.DisableInterrupts()
			continue
		}
		if !call.wait() {
			t.Errorf("driver: no interrupt after %d frames done: lost notification", done)
			return
		}
		p.drv.DisableInterrupts()
	}
}
