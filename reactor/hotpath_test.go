package reactor

import (
	"bytes"
	"io"
	"log/slog"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/reactor/route"
	"mvirt-net/reactor/uring"
	"mvirt-net/reactor/vhostuser"
	"mvirt-net/reactor/virtq"
	"mvirt-net/tests/vmm"
)

// testNic is a reactor set up in-process (not started: the test calls its
// TX and inbox passes itself) with a simulated guest on its queues.
type testNic struct {
	r      *Reactor
	mem    *vmm.GuestMemory
	rx, tx *vmm.DriverQueue
	mac    packet.MAC
	ip     netip.Addr
}

const testFeatures = vhostuser.FeatureVersion1 | vhostuser.FeatureEventIdx | vhostuser.FeatureMrgRxbuf

func newTestNic(t testing.TB, mac packet.MAC, ip netip.Addr, routes *Routes) *testNic {
	t.Helper()
	return newTestNicWith(t, mac, ip, routes, testFeatures, vmm.DefaultBufSize)
}

// newTestNicWith is newTestNic with the features the driver negotiated
// and the size of its TX buffers.
func newTestNicWith(t testing.TB, mac packet.MAC, ip netip.Addr, routes *Routes, features uint64, txBuf int) *testNic {
	t.Helper()
	ib, err := inbox.New(inbox.Config{Slots: 512, MaxFrame: 9230})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := newServices(Services{Gateway: gateway.Config{MAC: mac, IPv4: ip}})
	if err != nil {
		t.Fatal(err)
	}
	bell, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	r := &Reactor{
		cfg: Config{
			NicID: ip.String(), Inbox: ib, Routes: routes, Stats: &Stats{},
			Events: func(Event) {}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		},
		svc: svc, bell: bell, done: make(chan struct{}),
		cqes:  make([]*uring.CompletionQueueEvent, ringEntries),
		frame: make([]byte, maxFrame), out: make([]byte, maxFrame), rxChain: virtq.NewChain(maxSegs),
	}
	for i := range r.queues {
		r.queues[i].chain = virtq.NewChain(maxSegs)
	}
	if err := r.setup(); err != nil {
		t.Fatal(err)
	}
	n := &testNic{r: r, mac: mac, ip: ip}
	if n.mem, err = vmm.NewGuestMemory(8<<20 + 256*txBuf); err != nil {
		t.Fatal(err)
	}
	qcfg := vmm.DriverQueueConfig{Size: 256, EventIdx: true}
	if n.rx, err = vmm.NewDriverQueue(n.mem, qcfg); err != nil {
		t.Fatal(err)
	}
	qcfg.BufSize = txBuf
	if n.tx, err = vmm.NewDriverQueue(n.mem, qcfg); err != nil {
		t.Fatal(err)
	}
	reg := n.mem.Region()
	if err := r.AddRegion(vhostuser.Region{MemoryRegion: vhostuser.MemoryRegion{
		GuestPhysAddr: reg.GuestPhysAddr, Size: reg.Size, UserspaceAddr: reg.UserspaceAddr, MmapOffset: reg.MmapOffset,
	}, Fd: reg.Fd}); err != nil {
		t.Fatal(err)
	}
	for range 256 {
		if _, err := n.rx.AddRX(vmm.DefaultBufSize); err != nil {
			t.Fatal(err)
		}
	}
	n.rx.Publish()
	for q, dq := range []*vmm.DriverQueue{n.rx, n.tx} {
		kick, _ := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		call, _ := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		desc, avail, used := dq.UserAddrs()
		if err := r.StartRing(q, vhostuser.RingConfig{
			Features: features, Size: 256, Desc: desc, Avail: avail, Used: used, Kick: kick, Call: call, Err: -1,
		}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(kick); unix.Close(call) })
	}
	t.Cleanup(func() {
		r.cleanup()
		_ = n.mem.Close()
		_ = ib.Close()
	})
	return n
}

// pair is two NICs of one network, A routing to B.
func pair(t testing.TB) (a, b *testNic) {
	routes := &Routes{}
	a = newTestNic(t, packet.MAC{0x52, 0x54, 0, 0, 0, 0xa}, netip.MustParseAddr("10.0.0.1"), routes)
	b = newTestNic(t, packet.MAC{0x52, 0x54, 0, 0, 0, 0xb}, netip.MustParseAddr("10.0.0.2"), routes)
	bld := route.NewBuilder[*Dest]()
	for _, n := range []*testNic{a, b} {
		if err := bld.Add(netip.PrefixFrom(n.ip, 32), &Dest{Inbox: n.r.cfg.Inbox, MAC: n.mac, MTU: DefaultMTU}); err != nil {
			t.Fatal(err)
		}
	}
	routes.Store(bld.Build())
	return a, b
}

// udp is a UDP frame of size bytes from a to b.
func udp(a, b *testNic, size int) []byte {
	return packettest.UDP(a.mac, gateway.MAC, a.ip, b.ip, 4000, 5000, make([]byte, size-42))
}

// fill queues n copies of frame on a's TX ring.
func fill(t testing.TB, a *testNic, frame []byte, n int) {
	for range n {
		if _, err := a.tx.AddTX(vmm.NetHeader{}, frame); err != nil {
			t.Fatal(err)
		}
	}
	a.tx.Publish()
}

// usedTX takes every used element of n's TX ring and counts them.
func usedTX(t testing.TB, n *testNic) int {
	used := 0
	for {
		_, ok, err := n.tx.GetUsed()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return used
		}
		used++
	}
}

// drain takes what b received and recycles a's TX and b's RX buffers.
func drain(t testing.TB, a, b *testNic) int {
	got := 0
	for {
		_, _, ok, err := b.rx.RecvFrame(true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got++
		if _, err := b.rx.AddRX(vmm.DefaultBufSize); err != nil {
			t.Fatal(err)
		}
	}
	b.rx.Publish()
	usedTX(t, a)
	return got
}

// drainAll has b drain its inbox, and takes what it received, until
// nothing more arrives: frames waiting for RX buffers go in as drain
// recycles them. It returns how many frames b received.
func drainAll(t testing.TB, a, b *testNic) int {
	got := 0
	for {
		b.r.drainInboxFrames()
		n := drain(t, a, b)
		if n == 0 {
			return got
		}
		got += n
	}
}

// TestRoutedFrameAllocatesNothing proves the forwarding path — TX parse,
// route lookup, copy into (or lending through) the destination's inbox,
// delivery into its RX ring, the lent TX chain's return — allocates
// nothing per packet, for a frame copied whole and for a lent one. As
// testing.AllocsPerRun does, it runs on one P and counts allocations per
// round (of 64 frames), rounded down: a stray allocation by the runtime or
// the test framework (seen under -race on a loaded machine) is not the
// forwarding path's, whose one allocation per frame would count 64.
func TestRoutedFrameAllocatesNothing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, size := range []int{128, 1500} {
		a, b := pair(t)
		const batch = 64
		var before, after runtime.MemStats
		mallocs := uint64(0)
		frame := udp(a, b, size)
		for i := range 20 {
			fill(t, a, frame, batch)
			runtime.ReadMemStats(&before)
			a.r.processTx()
			b.r.drainInboxFrames()
			a.r.reapTx()
			runtime.ReadMemStats(&after)
			if i >= 2 {
				mallocs += after.Mallocs - before.Mallocs
			}
			if got := drain(t, a, b); got != batch {
				t.Fatalf("%d B, round %d: B received %d of %d frames; drops %+v", size, i, got, batch, a.r.cfg.Stats.Snapshot().Drops)
			}
		}
		if perRound := mallocs / 18; perRound != 0 {
			t.Fatalf("%d heap allocations per round of %d routed %d-byte frames", perRound, batch, size)
		}
	}
}

// TestLentFrame: a frame longer than lendMin travels by reference. B gets
// it intact, with the router's rewrite (MACs, TTL, header checksum) done
// in the copied head, and A gives its TX chain back only once B has
// released the frame, then all of them.
func TestLentFrame(t *testing.T) {
	a, b := pair(t)
	frame := udp(a, b, 1500)
	want := bytes.Clone(frame)
	var p packet.Parsed
	packet.Parse(want, &p)
	packet.Ethernet(want).Encode(b.mac, gateway.MAC, packet.EtherTypeIPv4)
	if !packet.DecTTL(want, &p) {
		t.Fatal("test frame has no TTL to decrement")
	}
	const n = 4
	fill(t, a, frame, n)
	a.r.processTx()
	if got := a.r.inflight.len(); got != n {
		t.Fatalf("%d of %d frames lent", got, n)
	}
	a.r.reapTx()
	if _, ok, _ := a.tx.GetUsed(); ok {
		t.Fatal("A gave a TX chain back before B read its frame")
	}
	b.r.drainInboxFrames()
	for i := range n {
		_, got, ok, err := b.rx.RecvFrame(true)
		if err != nil || !ok {
			t.Fatalf("frame %d: received %v, %v", i, ok, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("frame %d differs from the routed frame", i)
		}
	}
	a.r.reapTx()
	used := usedTX(t, a)
	if used != n || a.r.inflight.len() != 0 {
		t.Fatalf("A gave back %d of %d TX chains, %d still in flight", used, n, a.r.inflight.len())
	}
}

// TestSettleWaitsForRelease: a reactor stopping its TX ring, or unmapping
// its guest's memory, first waits until the destination has released
// every frame lent from it, and gives the chains back to the guest.
func TestSettleWaitsForRelease(t *testing.T) {
	a, b := pair(t)
	frame := udp(a, b, 1500)
	want := routedCopy(t, b, frame)
	fill(t, a, frame, 3)
	a.r.processTx()
	// B releases the frames in the middle of its drain, so StopRing may
	// return before the drain does: what it must not do is return before
	// the drain began. The sleep gives StopRing time to be waiting; it
	// decides nothing.
	draining, drained := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(drained)
		time.Sleep(20 * time.Millisecond)
		close(draining)
		b.r.drainInboxFrames()
	}()
	start := time.Now()
	a.r.StopRing(txQueue)
	select {
	case <-draining:
	default:
		t.Fatalf("TX ring stopped after %v, before B released the lent frames", time.Since(start))
	}
	<-drained
	used := usedTX(t, a)
	if used != 3 {
		t.Fatalf("A gave back %d of 3 lent TX chains before stopping", used)
	}
	for i := range 3 {
		_, got, ok, err := b.rx.RecvFrame(true)
		if err != nil || !ok || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: B received %v, %v, or another frame than the routed one", i, ok, err)
		}
	}
}

// benchmarkRouted times the reactors' work per frame: the TX pass and the
// inbox drain. The timer stops while the harness refills the rings, so
// allocs/op counts the forwarding path alone; stopping the timer costs
// more than a batch of frames, so the time to read is routed_ns/frame,
// taken by a clock around the two passes only.
func benchmarkRouted(b *testing.B, size int) {
	x, y := pair(b)
	routeFrames(b, x, y, size)
}

// routeFrames is benchmarkRouted's loop over NICs x and y as they are set
// up: batches of size-byte frames from x to y.
func routeFrames(b *testing.B, x, y *testNic, size int) {
	const batch = 128
	frame := udp(x, y, size)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	var routed time.Duration
	frames := 0
	b.ResetTimer()
	for ; frames < b.N; frames += batch {
		b.StopTimer()
		fill(b, x, frame, batch)
		b.StartTimer()
		start := time.Now()
		x.r.processTx()
		y.r.drainInboxFrames()
		x.r.reapTx()
		routed += time.Since(start)
		b.StopTimer()
		if got := drain(b, x, y); got != batch {
			b.Fatalf("B received %d of %d frames", got, batch)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(routed.Nanoseconds())/float64(frames), "routed_ns/frame")
}

// BenchmarkRoutedFrame64 measures the forwarding path per 64-byte frame
// (the harness's work on the guest side is not timed).
func BenchmarkRoutedFrame64(b *testing.B) { benchmarkRouted(b, 64) }

// BenchmarkRoutedFrame1500 measures it per 1500-byte frame.
func BenchmarkRoutedFrame1500(b *testing.B) { benchmarkRouted(b, 1500) }

// TestFullInboxHoldsTXBack fills B's inbox: A's TX ring is held back, not
// dropped, and goes on once B has drained; a destination that never
// drains is dropped to after maxBlock.
func TestFullInboxHoldsTXBack(t *testing.T) {
	a, b := pair(t)
	frame := udp(a, b, 128)
	queued := 0
	for b.r.cfg.Inbox.Put(frame) {
		queued++
	}
	fill(t, a, frame, 8)
	a.r.processTx()
	if a.r.blockedOn != b.r.cfg.Inbox {
		t.Fatal("A's TX ring not held back by B's full inbox")
	}
	if _, ok, _ := a.tx.GetUsed(); ok {
		t.Fatal("A used a TX chain it could not place")
	}
	if n := a.r.cfg.Stats.Drops[DropInboxFull].Load(); n != 0 {
		t.Fatalf("%d frames dropped instead of held back", n)
	}
	b.r.drainInboxFrames()
	queued -= drain(t, a, b)
	if !a.r.unblocked() {
		t.Fatal("room in B's inbox not seen")
	}
	a.r.processTx()
	if got := drainAll(t, a, b); got != queued+8 {
		t.Fatalf("B received %d of the %d frames queued and 8 held back", got, queued)
	}

	for b.r.cfg.Inbox.Put(frame) {
	}
	fill(t, a, frame, 1)
	a.r.processTx()
	a.r.blockedSince -= int64(maxBlock)
	a.r.processTx()
	if n := a.r.cfg.Stats.Drops[DropInboxFull].Load(); n != 1 {
		t.Fatalf("after maxBlock want 1 drop, got %d", n)
	}
}

// TestBusyPollSuppressesKicks: a trickle of frames does not start busy
// polling, a batch does; while a reactor busy-polls, a guest that adds TX
// chains is told not to kick; once it goes back to sleep (quiesce) the
// next chain asks for a kick again, and a chain added in between is found
// instead of slept on.
func TestBusyPollSuppressesKicks(t *testing.T) {
	a, b := pair(t)
	frame := udp(a, b, 128)
	a.r.cfg.BusyPoll, a.r.cfg.BusyPollBatch = time.Millisecond, DefaultBusyPollBatch
	fill(t, a, frame, DefaultBusyPollBatch-1)
	if !a.r.poll(false) {
		t.Fatal("poll found no work on a TX ring with chains")
	}
	if a.r.pollUntil > nanotime() {
		t.Fatal("a trickle of frames opened the busy-poll window")
	}
	fill(t, a, frame, DefaultBusyPollBatch)
	if !a.r.poll(false) {
		t.Fatal("poll found no work on a TX ring with chains")
	}
	if a.r.pollUntil <= nanotime() {
		t.Fatal("work did not open the busy-poll window")
	}
	if _, err := a.tx.AddTX(vmm.NetHeader{}, frame); err != nil {
		t.Fatal(err)
	}
	if a.tx.Publish() {
		t.Fatal("guest asked to kick while the reactor polls")
	}
	if a.r.quiesce() {
		t.Fatal("quiesce slept on a TX ring with a chain waiting")
	}
	if !a.r.poll(true) {
		t.Fatal("poll did not take the waiting chain")
	}
	if !a.r.quiesce() {
		t.Fatal("quiesce refused to sleep on empty rings")
	}
	a.r.cfg.Inbox.Unpark()
	if _, err := a.tx.AddTX(vmm.NetHeader{}, frame); err != nil {
		t.Fatal(err)
	}
	if !a.tx.Publish() {
		t.Fatal("guest not asked to kick after the reactor went to sleep")
	}
	a.r.poll(false)
	b.r.drainInboxFrames()
	if want := 2*DefaultBusyPollBatch + 1; drain(t, a, b) != want {
		t.Fatalf("B did not receive all %d frames", want)
	}
}

// TestSettleCrossedLends: two reactors stopping their TX rings at once,
// each holding frames the other lent, release each other's frames while
// they wait, and both give their chains back long before settleTimeout.
// (The one done first goes back to its loop, which keeps draining its
// inbox; the goroutines here do the same.)
func TestSettleCrossedLends(t *testing.T) {
	a, b := pair(t)
	fill(t, a, udp(a, b, 1500), 3)
	fill(t, b, udp(b, a, 1500), 3)
	a.r.processTx()
	b.r.processTx()
	if a.r.inflight.len() != 3 || b.r.inflight.len() != 3 {
		t.Fatalf("lent %d and %d frames, want 3 each", a.r.inflight.len(), b.r.inflight.len())
	}
	start := time.Now()
	var aDone, bDone atomic.Bool
	go func() {
		b.r.StopRing(txQueue)
		bDone.Store(true)
		for !aDone.Load() {
			b.r.drainInboxFrames()
		}
	}()
	a.r.StopRing(txQueue)
	aDone.Store(true)
	for !bDone.Load() {
		a.r.drainInboxFrames()
	}
	if d := time.Since(start); d >= settleTimeout/2 {
		t.Fatalf("stopping took %v: the reactors waited for each other", d)
	}
	for _, n := range []*testNic{a, b} {
		used := usedTX(t, n)
		if used != 3 || n.r.inflight.len() != 0 {
			t.Fatalf("NIC %s gave back %d of 3 lent TX chains, %d still in flight", n.ip, used, n.r.inflight.len())
		}
	}
}

// TestLendingLimit: at most half the TX ring is lent at once (the test
// ring, 256 entries of 2-descriptor chains, holds 128 frames, so the
// limit is lowered here to see it); the frames past it are copied whole,
// so the guest keeps buffers to send from, and every frame arrives.
func TestLendingLimit(t *testing.T) {
	a, b := pair(t)
	if a.r.inflight.limit != 256/2 {
		t.Fatalf("lending limit %d for a 256-entry TX ring, want 128", a.r.inflight.limit)
	}
	a.r.inflight.limit = 40
	const n = 60
	fill(t, a, udp(a, b, 1500), n)
	a.r.processTx()
	if got := a.r.inflight.len(); got != 40 {
		t.Fatalf("%d frames lent, want the limit, 40", got)
	}
	b.r.drainInboxFrames()
	a.r.reapTx()
	if got := drain(t, a, b); got != n {
		t.Fatalf("B received %d of %d frames", got, n)
	}
	if a.r.inflight.len() != 0 {
		t.Fatalf("%d TX chains still in flight", a.r.inflight.len())
	}
}
