package reactor

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/conntrack"
	"mvirt-net/reactor/guestmem"
	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/offload"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/uring"
	"mvirt-net/reactor/vhostuser"
	"mvirt-net/reactor/virtq"
)

const (
	ringEntries = 256
	// txBudget bounds the TX chains one pass takes before the reactor looks
	// at its other events again.
	txBudget = 256
	// maxFrame is the largest frame (without virtio header) a guest may
	// send: a 64 KiB IP packet plus its Ethernet header.
	maxFrame = 65535 + 14
	// maxSegs bounds the segments of one chain the reactor walks.
	maxSegs = 64
)

// Reactor serves one NIC. Its methods may be called from any goroutine.
type Reactor struct {
	cfg   Config
	svc   *services
	inbox chan command
	bell  int
	done  chan struct{}

	// Everything below belongs to the reactor's thread.
	ring    *uring.Ring
	cqes    []*uring.CompletionQueueEvent
	bellBuf [8]byte
	raTimer uring.Timespec
	// A TX ring held back by a full inbox: which inbox, for how long a
	// frame, since when (nanotime), and the safety timer.
	blockedOn    *inbox.Inbox
	blockedLen   int
	blockedSince int64
	retryTimer   uring.Timespec
	retryArmed   bool
	stopping     bool
	conn         *vhostuser.Session
	connGen      uint32
	mem          guestmem.Table
	queues       [vhostuser.NumQueues]queue
	hdrLen       int
	state        State
	faulted      string
	txMore       bool
	// pollUntil (nanotime) ends the busy-poll window the last frame opened.
	pollUntil int64
	// handled counts the frames taken from TX and the inbox since poll
	// last looked.
	handled int
	// inSession is set while the Session handles frontend messages.
	inSession bool

	parsed packet.Parsed
	// frame holds the bytes of a TX frame that take copied; tx is the
	// TX frame handled (see txframe.go).
	frame   []byte
	tx      txFrame
	out     []byte
	rxChain virtq.Chain
	// rxHdr is the virtio-net header of a plain frame (all zero), rxOff
	// that of an offloaded one; rxPieces are the pieces put delivers.
	rxHdr     [12]byte
	rxOff     [12]byte
	rxPieces  [1 + maxLendPieces][]byte
	rxPending bool
	// off are the offloads the driver negotiated (see offloads.go); rx
	// is deliverFrame's room for frames with an offload header.
	off      offload.Features
	rx       rxOffload
	batch    batchStats
	inboxBuf [8]byte
	touched  [maxTouched]*inbox.Inbox
	// lent is the frame route lent out of the TX chain handled, if any,
	// and lentPiece its tail when in one piece; inflight holds the TX
	// chains lent (see inflight.go).
	lent      inflightChain
	lentPiece [1][]byte
	// reserved is the inbox slot route is filling, if any (see route).
	reserved inbox.Slot
	// next holds the inbox frame deliverFrames takes next and the one it
	// delivers, drained counts the frames it took this batch, and
	// lending is the lent frame it copies (see lentfault.go).
	next     nextFrame
	drained  int
	lending  lentCopy
	inflight inflight
	last     lastRoute
	nTouched int
	fw       firewall

	// rxWaiting is set while inbox frames wait for the guest to add RX
	// buffers, and rxWaitSince (nanotime) is when the RX ring began to
	// have no room for them, 0 once frames go in again (see holdRx).
	rxWaiting   bool
	rxWaitSince int64
}

// queue is one virtqueue as the reactor runs it.
type queue struct {
	q       virtq.Queue
	running bool
	kick    int
	call    int
	gen     uint32
	kickBuf [8]byte
	chain   virtq.Chain
}

// Queue indexes of the one queue pair.
const (
	rxQueue = 0
	txQueue = 1
)

// Start starts a reactor on its own OS thread and returns once its ring
// is set up and it polls the listener.
func Start(cfg Config) (*Reactor, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.BusyPollBatch == 0 {
		cfg.BusyPollBatch = DefaultBusyPollBatch
	}
	if cfg.ConntrackSize == 0 {
		cfg.ConntrackSize = conntrack.DefaultSize
	}
	svc, err := newServices(cfg.Services)
	if err != nil {
		return nil, err
	}
	bell, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inbox eventfd: %w", err)
	}
	r := &Reactor{
		cfg: cfg, svc: svc, inbox: make(chan command, 16), bell: bell, done: make(chan struct{}),
		cqes:    make([]*uring.CompletionQueueEvent, ringEntries),
		frame:   make([]byte, maxFrame),
		out:     make([]byte, maxFrame),
		rxChain: virtq.NewChain(maxSegs),
		fw:      firewall{pub: cfg.Filter, size: cfg.ConntrackSize},
	}
	for i := range r.queues {
		r.queues[i].chain = virtq.NewChain(maxSegs)
		r.queues[i].kick, r.queues[i].call = -1, -1
	}
	started := make(chan error, 1)
	go r.run(started)
	if err := <-started; err != nil {
		<-r.done
		return nil, err
	}
	return r, nil
}

// run is the reactor's thread. It never unlocks the OS thread, so the
// thread (and its CPU affinity) ends with the reactor.
func (r *Reactor) run(started chan<- error) {
	runtime.LockOSThread()
	debug.SetPanicOnFault(true)
	defer func() {
		v := recover()
		r.cleanup()
		close(r.done)
		if v != nil {
			r.cfg.Log.Error("reactor crashed", "nic", r.cfg.NicID, "panic", v)
			r.cfg.Events(Crashed{Value: v, Stack: debug.Stack()})
		}
	}()
	if err := r.setup(); err != nil {
		started <- err
		return
	}
	started <- nil
	r.loop()
}

func (r *Reactor) setup() error {
	ring, err := threadRing(r.cfg.CPUs, ringEntries)
	if err != nil {
		return err
	}
	r.ring = ring
	return nil
}

// threadRing pins the calling thread to cpus (if any) and sets up its
// io_uring, single-issuer where the kernel has it.
func threadRing(cpus []int, entries uint32) (*uring.Ring, error) {
	if len(cpus) > 0 {
		var set unix.CPUSet
		for _, c := range cpus {
			set.Set(c)
		}
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return nil, fmt.Errorf("pin reactor to cpus %v: %w", cpus, err)
		}
	}
	ring, err := uring.New(entries, uring.Options{Flags: uring.SetupSingleIssuer | uring.SetupDeferTaskrun})
	if errors.Is(err, unix.EINVAL) {
		ring, err = uring.New(entries, uring.Options{})
	}
	if err != nil {
		return nil, fmt.Errorf("reactor io_uring: %w", err)
	}
	return ring, nil
}

// cleanup releases everything the thread owns; it runs after a stop and
// after a panic alike, and must not panic itself.
func (r *Reactor) cleanup() {
	defer func() {
		if v := recover(); v != nil {
			r.cfg.Log.Error("reactor cleanup failed", "nic", r.cfg.NicID, "panic", v)
		}
	}()
	// A fault while route copied a frame leaves its slot reserved.
	r.reserved.Cancel()
	if r.conn != nil {
		r.disconnect("reactor stopped")
	}
	if r.ring != nil {
		r.cancelAll()
		r.ring.QueueExit()
	}
	_ = unix.Close(r.bell)
}

// Stop stops the reactor, closing its frontend connection, and waits for
// its thread to end. The listener stays open.
func (r *Reactor) Stop() {
	r.send(cmdStop{})
	<-r.done
}

// Done is closed when the reactor's thread has ended.
func (r *Reactor) Done() <-chan struct{} { return r.done }

// InjectPanic makes the reactor panic on its thread: a fault-injection hook
// for testing supervision.
func (r *Reactor) InjectPanic() { r.send(cmdPanic{}) }

// cancelAll withdraws every pending request and waits (briefly) until the
// kernel confirms, so no completion writes into the reactor's buffers
// after the ring is gone.
func (r *Reactor) cancelAll() { cancelAll(r.ring, r.cqes) }

// cancelAll is Reactor.cancelAll for any ring; cqes is scratch space.
func cancelAll(ring *uring.Ring, cqes []*uring.CompletionQueueEvent) {
	e := nextSQE(ring)
	e.PrepareCancel(0, uring.AsyncCancelAny|uring.AsyncCancelAll)
	e.UserData = tag(kindCancel, 0, cancelAllIdx)
	ts := uring.NsecToTimespec(int64(100 * time.Millisecond))
	for range 16 {
		_, err := ring.SubmitAndWaitTimeout(1, &ts)
		n := ring.PeekBatchCQE(cqes)
		done := false
		for _, c := range cqes[:n] {
			done = done || c.UserData == tag(kindCancel, 0, cancelAllIdx)
		}
		ring.CQAdvance(n)
		if done || (err != nil && !errors.Is(err, unix.EINTR) && !errors.Is(err, unix.ETIME)) {
			return
		}
	}
}

// cancelAllIdx marks the completion of cancelAll's request.
const cancelAllIdx = 1
