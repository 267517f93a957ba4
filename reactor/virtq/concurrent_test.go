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
	seq := 0
	for seq < wraparoundFrames {
		p.dev.DisableNotify()
		for batch := 0; ; batch++ {
			ok, f := p.dev.Pop(&c)
			if f != virtq.FaultNone {
				t.Errorf("device: frame %d: %v", seq, f)
				return
			}
			if !ok {
				break
			}
			got := gather(c.ReadSegs())
			want := frameFor(seq, frameLen(seq, 600))
			if len(got) < vmm.NetHeaderLen || got[6] != byte(seq) || !bytes.Equal(got[vmm.NetHeaderLen:], want) {
				t.Errorf("device: frame %d differs", seq)
				return
			}
			p.dev.AddUsed(c.Head, 0)
			seq++
			if batch%32 == 31 {
				p.dev.Publish()
				if p.dev.NeedsNotify() {
					call.ring()
				}
			}
		}
		p.dev.Publish()
		if p.dev.NeedsNotify() {
			call.ring()
		}
		if seq == wraparoundFrames || p.dev.EnableNotify() {
			continue
		}
		if !kick.wait() {
			t.Errorf("device: no kick after frame %d: lost notification", seq)
			return
		}
	}
}

// txDriver sends wraparoundFrames frames and reaps their chains.
func txDriver(t *testing.T, p *pair, kick, call doorbell) {
	p.drv.DisableInterrupts()
	sent, done := 0, 0
	for done < wraparoundFrames {
		for sent < wraparoundFrames && p.drv.FreeDescs() >= 2 {
			if _, err := p.drv.AddTX(vmm.NetHeader{CsumStart: uint16(sent)}, frameFor(sent, frameLen(sent, 600))); err != nil {
				t.Errorf("driver: %v", err)
				return
			}
			sent++
		}
		if p.drv.Publish() {
			kick.ring()
		}
		reaped := 0
		for {
			_, ok, err := p.drv.GetUsed()
			if err != nil {
				t.Errorf("driver: %v", err)
				return
			}
			if !ok {
				break
			}
			reaped++
		}
		done += reaped
		if reaped > 0 || done == wraparoundFrames {
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
	seq := 0
	for seq < wraparoundFrames {
		p.dev.DisableNotify()
		for batch := 0; seq < wraparoundFrames; batch++ {
			r, f := deliver(p, &c, frameFor(seq, frameLen(seq, 1514)))
			if r == virtq.RxFault || r == virtq.RxTooBig {
				t.Errorf("device: frame %d: %v %v", seq, r, f)
				return
			}
			if r == virtq.RxNoBuffers {
				break
			}
			seq++
			if batch%32 == 31 {
				p.dev.Publish()
				if p.dev.NeedsNotify() {
					call.ring()
				}
			}
		}
		p.dev.Publish()
		if p.dev.NeedsNotify() {
			call.ring()
		}
		if seq == wraparoundFrames || p.dev.EnableNotify() {
			continue
		}
		if !kick.wait() {
			t.Errorf("device: no kick after frame %d: lost notification", seq)
			return
		}
	}
}

// rxDriver keeps the queue full of buffers and checks every frame.
func rxDriver(t *testing.T, p *pair, bufSize int, mergeable bool, kick, call doorbell) {
	p.drv.DisableInterrupts()
	seq := 0
	for seq < wraparoundFrames {
		for p.drv.FreeDescs() > 0 {
			if _, err := p.drv.AddRX(bufSize); err != nil {
				t.Errorf("driver: %v", err)
				return
			}
		}
		if p.drv.Publish() {
			kick.ring()
		}
		got := 0
		for {
			hdr, frame, ok, err := p.drv.RecvFrame(mergeable)
			if err != nil {
				t.Errorf("driver: frame %d: %v", seq, err)
				return
			}
			if !ok {
				break
			}
			if hdr.Flags != vmm.NetHdrFDataValid || !bytes.Equal(frame, frameFor(seq, frameLen(seq, 1514))) {
				t.Errorf("driver: frame %d differs (%d bytes)", seq, len(frame))
				return
			}
			seq++
			got++
		}
		if got > 0 || seq == wraparoundFrames {
			continue
		}
		if p.drv.EnableInterrupts() {
			p.drv.DisableInterrupts()
			continue
		}
		if !call.wait() {
			t.Errorf("driver: no interrupt after %d frames: lost notification", seq)
			return
		}
		p.drv.DisableInterrupts()
	}
}
