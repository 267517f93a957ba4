package reactor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/reactor/route"
	"mvirt-net/reactor/uring"
	"mvirt-net/tests/vmm"
)

// trio is three NICs of one network.
func trio(t testing.TB) (a, b, c *testNic) {
	routes := &Routes{}
	a = newTestNic(t, packet.MAC{0x52, 0x54, 0, 0, 0, 0xa}, netip.MustParseAddr("10.0.0.1"), routes)
	b = newTestNic(t, packet.MAC{0x52, 0x54, 0, 0, 0, 0xb}, netip.MustParseAddr("10.0.0.2"), routes)
	c = newTestNic(t, packet.MAC{0x52, 0x54, 0, 0, 0, 0xc}, netip.MustParseAddr("10.0.0.3"), routes)
	bld := route.NewBuilder[*Dest]()
	for _, n := range []*testNic{a, b, c} {
		if err := bld.Add(netip.PrefixFrom(n.ip, 32), &Dest{Inbox: n.r.cfg.Inbox, MAC: n.mac, MTU: DefaultMTU}); err != nil {
			t.Fatal(err)
		}
	}
	routes.Store(bld.Build())
	return a, b, c
}

// numbered is a UDP frame of size bytes from a to b carrying seq.
func numbered(a, b *testNic, size int, seq uint32) []byte {
	payload := make([]byte, size-42)
	binary.BigEndian.PutUint32(payload, seq)
	return packettest.UDP(a.mac, gateway.MAC, a.ip, b.ip, 4000, 5000, payload)
}

// useUpRx has n's guest leave all but free of its RX buffers used: frames
// are delivered into them, and the guest takes them without posting
// buffers again. It returns how many frames it took.
func useUpRx(t testing.TB, n *testNic, free int) int {
	t.Helper()
	frame := packettest.UDP(gateway.MAC, gateway.MAC, n.ip, n.ip, 1, 2, make([]byte, 100))
	for range 256 - free {
		if !n.r.cfg.Inbox.Put(frame) {
			t.Fatal("inbox refused a frame")
		}
	}
	n.r.drainInboxFrames()
	return takeRx(t, n, 0)
}

// takeRx takes every frame n received, posting fresh buffers for at most
// repost of them, and returns how many it took.
func takeRx(t testing.TB, n *testNic, repost int) int {
	t.Helper()
	got := 0
	for ; ; got++ {
		_, _, ok, err := n.rx.RecvFrame(true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
	}
	postRx(t, n, min(got, repost))
	return got
}

// postRx posts k fresh RX buffers on n's ring and reports whether the
// guest was asked to kick.
func postRx(t testing.TB, n *testNic, k int) bool {
	t.Helper()
	for range k {
		if _, err := n.rx.AddRX(vmm.DefaultBufSize); err != nil {
			t.Fatal(err)
		}
	}
	return n.rx.Publish()
}

// recvSeqs takes every frame n received, posting fresh buffers for them,
// and returns the sequence numbers they carry (see numbered).
func recvSeqs(t testing.TB, n *testNic) []uint32 {
	t.Helper()
	var seqs []uint32
	for {
		_, f, ok, err := n.rx.RecvFrame(true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		seqs = append(seqs, binary.BigEndian.Uint32(f[42:]))
		if _, err := n.rx.AddRX(vmm.DefaultBufSize); err != nil {
			t.Fatal(err)
		}
	}
	n.rx.Publish()
	return seqs
}

// runRing waits on n's io_uring, as the reactor's loop does when it
// sleeps, until a completion of kind arrives, and dispatches every
// completion meanwhile; then it polls, as the loop does after dispatching.
// The ring takes submissions from the thread that made it only: a test
// that calls it locks its goroutine to its thread before making NICs.
func runRing(t testing.TB, n *testNic, kind uint64) {
	t.Helper()
	ts := uring.NsecToTimespec(int64(5 * time.Second))
	for seen := false; !seen; {
		if _, err := n.r.ring.SubmitAndWaitTimeout(1, &ts); err != nil && !errors.Is(err, unix.EINTR) {
			t.Fatalf("no completion of kind %d: %v", kind, err)
		}
		k := n.r.ring.PeekBatchCQE(n.r.cqes)
		for _, c := range n.r.cqes[:k] {
			got, _, _ := untag(c.UserData)
			seen = seen || got == kind
			n.r.dispatch(c.UserData, c.Res)
		}
		n.r.ring.CQAdvance(k)
	}
	n.r.poll(false)
}

func expectSeqs(t testing.TB, got []uint32, from, to uint32) {
	t.Helper()
	if len(got) != int(to-from) {
		t.Fatalf("received %d frames, want %d (%d..%d)", len(got), to-from, from, to-1)
	}
	for i, s := range got {
		if s != from+uint32(i) {
			t.Fatalf("frame %d carries %d, want %d: out of order", i, s, from+uint32(i))
		}
	}
}

// TestEmptyRxRingHoldsFrames: frames routed to a NIC whose guest has no
// RX buffers wait in its inbox, not dropped, with their senders' TX
// chains still lent; the reactor asks the guest for a kick, and that
// kick wakes it to deliver them all, in order, once the guest posts
// buffers. The senders then get their chains back.
func TestEmptyRxRingHoldsFrames(t *testing.T) {
	runtime.LockOSThread() // for good: the cleanup tears the rings down
	a, b := pair(t)
	useUpRx(t, b, 0)
	const n = 100
	for i := range uint32(n) {
		fill(t, a, numbered(a, b, 1500, i), 1)
	}
	a.r.processTx()
	b.r.drainInboxFrames()
	if d := b.r.cfg.Stats.Drops[DropNoRxBuffer].Load(); d != 0 {
		t.Fatalf("%d frames dropped for want of RX buffers", d)
	}
	if !b.r.rxWaiting || a.r.inflight.len() != n {
		t.Fatalf("frames not waiting (%v), %d of %d TX chains lent", b.r.rxWaiting, a.r.inflight.len(), n)
	}
	if !b.r.quiesce() {
		t.Fatal("reactor would not sleep while its frames wait for RX buffers")
	}
	if got := takeRx(t, b, 0); got != 0 {
		t.Fatalf("guest received %d frames without RX buffers", got)
	}
	if !postRx(t, b, 256) {
		t.Fatal("guest not asked to kick when it posts RX buffers")
	}
	if err := kick(b.r.queues[rxQueue].kick); err != nil {
		t.Fatal(err)
	}
	runRing(t, b, kindKick)
	expectSeqs(t, recvSeqs(t, b), 0, n)
	a.r.reapTx()
	if used := usedTX(t, a); used != n || a.r.inflight.len() != 0 {
		t.Fatalf("A got back %d of %d TX chains, %d still lent", used, n, a.r.inflight.len())
	}
	if b.r.rxWaiting || b.r.rxWaitSince != 0 || b.r.cfg.Stats.Drops[DropNoRxBuffer].Load() != 0 {
		t.Fatal("frames still waiting, or dropped, or the wait not over")
	}
}

// TestHoldingNicStillSends: a NIC whose inbox frames wait for RX buffers
// still sleeps on its doorbell for its own TX ring: when the destination
// of a frame it lent releases it, the doorbell wakes it, and its guest
// gets the TX chain back without waiting for an RX kick or the timer.
func TestHoldingNicStillSends(t *testing.T) {
	runtime.LockOSThread() // for good: the cleanup tears the rings down
	a, b := pair(t)
	useUpRx(t, b, 0)
	fill(t, a, numbered(a, b, 1500, 0), 1)
	a.r.processTx()
	fill(t, b, numbered(b, a, 1500, 0), 1)
	b.r.processTx()
	b.r.drainInboxFrames()
	if !b.r.rxWaiting || b.r.inflight.len() != 1 {
		t.Fatalf("B: frames waiting %v, %d TX chains lent, want 1", b.r.rxWaiting, b.r.inflight.len())
	}
	b.r.armInbox()
	if !b.r.quiesce() {
		t.Fatal("B would not sleep")
	}
	a.r.drainInboxFrames()
	runRing(t, b, kindInbox)
	if used := usedTX(t, b); used != 1 || b.r.inflight.len() != 0 {
		t.Fatalf("B's guest got back %d of 1 TX chains after the wake-up", used)
	}
	if !b.r.rxWaiting {
		t.Fatal("B's frames no longer waiting, without RX buffers")
	}
}

// kick writes an eventfd as a guest's kick does.
func kick(fd int) error {
	one := [8]byte{1}
	_, err := unix.Write(fd, one[:])
	return err
}

// TestNeverRefillingGuest: a guest that posts no RX buffers holds the
// frames routed to it for maxRxWait only: the reactor's timer wakes it,
// they are dropped (no_rx_buffer), and the senders get their TX chains
// back; frames after that are dropped at once until the guest posts
// buffers again. Another NIC's frames from the same sender meanwhile go
// through, and delivery resumes once the guest posts buffers.
func TestNeverRefillingGuest(t *testing.T) {
	runtime.LockOSThread() // for good: the cleanup tears the rings down
	a, b, c := trio(t)
	useUpRx(t, b, 0)
	const n = 50
	for i := range uint32(n) {
		fill(t, a, numbered(a, b, 1500, i), 1)
		fill(t, a, numbered(a, c, 1500, i), 1)
	}
	a.r.processTx()
	b.r.drainInboxFrames()
	c.r.drainInboxFrames()
	expectSeqs(t, recvSeqs(t, c), 0, n)
	if !b.r.rxWaiting || !b.r.quiesce() {
		t.Fatal("frames to the guest without RX buffers are not waiting")
	}
	runRing(t, b, kindRetry)
	if d := b.r.cfg.Stats.Drops[DropNoRxBuffer].Load(); d != n || b.r.rxWaiting {
		t.Fatalf("after maxRxWait %d frames dropped, want %d; still waiting %v", d, n, b.r.rxWaiting)
	}
	var left inbox.Frame
	if b.r.cfg.Inbox.Peek(&left) {
		t.Fatal("frames left in the inbox")
	}
	a.r.reapTx()
	if used := usedTX(t, a); used != 2*n || a.r.inflight.len() != 0 {
		t.Fatalf("A got back %d of %d TX chains, %d still lent", used, 2*n, a.r.inflight.len())
	}

	fill(t, a, numbered(a, b, 1500, n), 1)
	a.r.processTx()
	b.r.drainInboxFrames()
	if d := b.r.cfg.Stats.Drops[DropNoRxBuffer].Load(); d != n+1 || b.r.rxWaiting {
		t.Fatalf("a frame to a guest past maxRxWait waited (dropped %d)", d-n)
	}
	postRx(t, b, 256)
	fill(t, a, numbered(a, b, 1500, n+1), 1)
	a.r.processTx()
	b.r.drainInboxFrames()
	expectSeqs(t, recvSeqs(t, b), n+1, n+2)
	if b.r.rxWaitSince != 0 {
		t.Fatal("a delivered frame did not end the wait")
	}
}

// TestSuperFrameWaitsForBuffers: a super-frame that needs more mergeable
// RX buffers than are posted waits for more instead of being dropped,
// whether it goes through whole or cut into segments (the segments that
// fit go at once, the rest after), and so does a frame whose checksum
// the reactor completes, which arrives with it right.
func TestSuperFrameWaitsForBuffers(t *testing.T) {
	payload := streamPayload(tsoPayload)
	t.Run("pass-through", func(t *testing.T) {
		a, b := offloadPair(t, offloadFeatures, offloadFeatures)
		useUpRx(t, b, 20)
		frame := tcpFrame(a.mac, gateway.MAC, a.ip, b.ip, 1000, tcpPSH|tcpACK, 0x1234, 64, payload, true)
		sendTSO(t, a, b, tsoHeader(tsoMSS), frame)
		if _, got := recvAll(t, b); len(got) != 0 || !b.r.rxWaiting {
			t.Fatalf("%d frames in 20 buffers, waiting %v", len(got), b.r.rxWaiting)
		}
		postRx(t, b, 20)
		b.r.drainInboxFrames()
		_, got := recvAll(t, b)
		if len(got) != 1 || !bytes.Equal(got[0], routedCopy(t, b, frame)) {
			t.Fatalf("B received %d frames, want the super-frame intact; drops %v", len(got), b.r.cfg.Stats.Snapshot().Drops)
		}
	})
	t.Run("segmented", func(t *testing.T) {
		a, b := offloadPair(t, offloadFeatures, testFeatures)
		useUpRx(t, b, 20)
		flags := uint8(tcpFIN | tcpPSH | tcpACK | tcpCWR)
		frame := tcpFrame(a.mac, gateway.MAC, a.ip, b.ip, 1000, flags, 0x1234, 64, payload, true)
		sendTSO(t, a, b, tsoHeader(tsoMSS), frame)
		_, got := recvAll(t, b)
		if len(got) != 20 || !b.r.rxWaiting {
			t.Fatalf("%d segments in 20 buffers, waiting %v", len(got), b.r.rxWaiting)
		}
		// recvAll posts a buffer for each segment taken: 20 more go
		// in each time.
		for b.r.rxWaiting {
			b.r.drainInboxFrames()
			_, more := recvAll(t, b)
			if len(more) == 0 {
				t.Fatal("no segment went into 20 fresh buffers")
			}
			got = append(got, more...)
		}
		want := expectedSegments(a, b, 1000, flags, 0x1234, payload, tsoMSS)
		if len(got) != len(want) {
			t.Fatalf("B received %d segments, want %d; drops %v", len(got), len(want), b.r.cfg.Stats.Snapshot().Drops)
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("segment %d of %d differs from the expectation", i, len(want))
			}
		}
	})
	t.Run("checksum completed", func(t *testing.T) {
		a, b := offloadPair(t, offloadFeatures, testFeatures)
		useUpRx(t, b, 0)
		small := tcpFrame(a.mac, gateway.MAC, a.ip, b.ip, 7, tcpPSH|tcpACK, 9, 64, streamPayload(999), true)
		addPieces(t, a, csumHeader(), small, 66, 500)
		a.tx.Publish()
		a.r.processTx()
		// Tried twice without room: the checksum must be completed
		// over the sender's bytes each time, not over the last try's.
		b.r.drainInboxFrames()
		b.r.drainInboxFrames()
		if !b.r.rxWaiting {
			t.Fatal("frame not waiting for RX buffers")
		}
		postRx(t, b, 1)
		b.r.drainInboxFrames()
		_, got := recvAll(t, b)
		complete := tcpFrame(gateway.MAC, b.mac, a.ip, b.ip, 7, tcpPSH|tcpACK, 9, 63, streamPayload(999), false)
		if len(got) != 1 || !bytes.Equal(got[0], complete) {
			t.Fatalf("%d frames, checksum completed right: %v", len(got), len(got) == 1 && bytes.Equal(got[0], complete))
		}
	})
}

// TestRxWaitAllocatesNothing: frames that wait in the inbox for RX
// buffers, and go in once the guest posts some, cost no allocation
// (counted per round, as TestRoutedFrameAllocatesNothing does).
func TestRxWaitAllocatesNothing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	a, b := pair(t)
	const half = 32
	useUpRx(t, b, half)
	frame := udp(a, b, 1500)
	var before, after runtime.MemStats
	mallocs := uint64(0)
	for i := range 20 {
		fill(t, a, frame, 2*half)
		runtime.ReadMemStats(&before)
		a.r.processTx()
		b.r.drainInboxFrames()
		runtime.ReadMemStats(&after)
		first := after.Mallocs - before.Mallocs
		if !b.r.rxWaiting {
			t.Fatalf("round %d: no frame waited for RX buffers", i)
		}
		got := takeRx(t, b, half)
		runtime.ReadMemStats(&before)
		b.r.drainInboxFrames()
		a.r.reapTx()
		runtime.ReadMemStats(&after)
		if i >= 2 {
			mallocs += first + after.Mallocs - before.Mallocs
		}
		if got += takeRx(t, b, half); got != 2*half {
			t.Fatalf("round %d: B received %d of %d frames; drops %v", i, got, 2*half, b.r.cfg.Stats.Snapshot().Drops)
		}
		usedTX(t, a)
	}
	if perRound := mallocs / 18; perRound != 0 {
		t.Fatalf("%d heap allocations per round of %d frames that waited", perRound, 2*half)
	}
}
