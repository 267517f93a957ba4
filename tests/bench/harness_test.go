package bench

import (
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// loopPorts returns two back-end-less ports joined by a loopDevice.
func loopPorts(t *testing.T, bufSize int) (a, b *port) {
	t.Helper()
	cfg := portConfig{QueueSize: 1024, RxBufSize: bufSize, TxBufSize: bufSize}
	var err error
	if a, err = newPort(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	if b, err = newPort(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.close)
	a.rx.postAll()
	b.rx.postAll()
	return a, b
}

// TestHarnessThroughLoopDevice runs the generator and the sink through
// the trivial in-process device briefly and checks that every frame the
// device took arrived whole.
func TestHarnessThroughLoopDevice(t *testing.T) {
	for _, size := range []int{64, 1500, 9000} {
		a, b := loopPorts(t, 9216)
		frame, err := udpFrame(endA, endB, size)
		if err != nil {
			t.Fatal(err)
		}
		dev := newLoopDevice(a, b)
		cpu := func() (time.Duration, error) { return processCPU(os.Getpid()) }
		var stop atomic.Bool
		done := make(chan struct{})
		go func() {
			defer close(done)
			for !stop.Load() {
				if dev.step() == 0 {
					runtime.Gosched()
				}
			}
		}()
		res, err := runThroughput(a, b, frame, window{Warmup: 20 * time.Millisecond, Measure: 100 * time.Millisecond}, cpu)
		stop.Store(true)
		<-done
		if err != nil {
			t.Fatal(err)
		}
		if res.Frames == 0 || res.Bytes != res.Frames*uint64(size) {
			t.Fatalf("size %d: %d frames, %d bytes", size, res.Frames, res.Bytes)
		}
		if d := res.Drops(); d > 2*int64(a.tx.size) || d < -2*int64(a.tx.size) {
			t.Fatalf("size %d: %d taken, %d delivered", size, res.Sent, res.Frames)
		}
		t.Logf("size %d: %.2f Mpps, generator %.0f ns/frame, sink %.0f ns/frame", size, res.Mpps(), res.GenNs, res.SinkNs)
	}
}

// TestPingPongThroughLoopDevices echoes single frames through two
// trivial devices, one per direction.
func TestPingPongThroughLoopDevices(t *testing.T) {
	a, b := loopPorts(t, 2048)
	ping, _ := udpFrame(endA, endB, 64)
	pong, _ := udpFrame(endB, endA, 64)
	ab, ba := newLoopDevice(a, b), newLoopDevice(b, a)
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			ab.step()
			ba.step()
		}
	}()
	res, err := pingPong(a, b, ping, pong, latencyConfig{
		Warmup: 10, Samples: 200, MaxTime: 5 * time.Second, Timeout: time.Second, MaxLost: 0,
	})
	stop.Store(true)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if res.Samples != 200 || res.P50 <= 0 || res.P50 > res.P99 || res.P99 > res.P999 {
		t.Fatalf("latency: %+v", res)
	}
}

// TestSelfTest checks the lockstep harness measurement.
func TestSelfTest(t *testing.T) {
	frame, err := udpFrame(endA, endB, 512)
	if err != nil {
		t.Fatal(err)
	}
	res, err := selfTest(frame, portConfig{QueueSize: 256, RxBufSize: 2048, TxBufSize: 2048}, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.Frames == 0 || res.Bytes != 512*res.Frames || res.Sent < res.Frames || res.Elapsed <= 0 {
		t.Fatalf("self test: %+v", res)
	}
	t.Logf("%.2f Mpps per core", res.Mpps())
}
