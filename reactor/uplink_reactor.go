package reactor

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/eventfd"
	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/tun"
	"mvirt-net/reactor/uring"
)

// Uplink reactor sizing: reads kept pending on the TUN, packets in flight
// to it, and the ring that holds them all.
const (
	uplinkReads   = 64
	uplinkWrites  = 256
	uplinkEntries = 512
)

// What an uplink completion is about, after the NIC reactor's kinds.
const (
	kindTunRead = kindRetry + 1 + iota
	kindTunWrite
)

// tunRoom is the room in front of a packet read from the TUN: with its
// virtio_net_hdr behind it, an Ethernet header fits in front of the IP
// packet once the virtio_net_hdr has been read.
const tunRoom = packet.EthernetHeaderLen - tun.HdrLen

// UplinkReactor serves the uplink on its own OS thread and io_uring: it
// keeps reads pending on the TUN and routes what they bring to the ports
// of public networks (fromKernel), and writes what public networks route
// to the uplink, from its inbox, to the TUN (toKernel). Its methods may
// be called from any goroutine.
type UplinkReactor struct {
	up     *Uplink
	events func(Event)
	cmds   chan command
	bell   int
	done   chan struct{}

	// Everything below belongs to the reactor's thread.
	ring     *uring.Ring
	cqes     []*uring.CompletionQueueEvent
	bellBuf  [8]byte
	inboxBuf [8]byte
	stopping bool
	// rbuf[i] is read request i's buffer: tunRoom bytes, the
	// virtio_net_hdr, the packet.
	rbuf [uplinkReads][]byte
	// wbuf[i] is write buffer i, in flight unless its index is among
	// wfree[:nfree].
	wbuf   [uplinkWrites][]byte
	wfree  [uplinkWrites]uint16
	nfree  int
	parsed packet.Parsed
	out    []byte
	batch  batchStats
	last   lastRoute
	// touched are the inboxes this pass committed to, flushed at its end.
	touched  [maxTouched]*inbox.Inbox
	nTouched int
	// lending is the lent bytes of the frame toKernel writes, nil
	// between frames (see catchLentFault).
	lending [][]byte
	// cur is the inbox frame writeFrames writes; copying is set while
	// write copies into the buffer it took; short is set when a frame
	// waits for write buffers to be free.
	cur     inbox.Frame
	copying bool
	short   bool
	// off is writeFrame's room for frames with an offload header.
	off rxOffload
}

// Start starts a reactor serving the uplink on its own OS thread, and
// returns once its reads are pending. events receives Crashed if it
// panics; it is called on the reactor's thread and must not block.
func (u *Uplink) Start(events func(Event)) (*UplinkReactor, error) {
	if events == nil {
		return nil, errors.New("uplink reactor needs an events callback")
	}
	bell, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("uplink doorbell: %w", err)
	}
	r := &UplinkReactor{
		up: u, events: events, cmds: make(chan command, 16), bell: bell, done: make(chan struct{}),
		cqes: make([]*uring.CompletionQueueEvent, uplinkEntries),
		out:  make([]byte, maxFrame),
	}
	rmem := make([]byte, uplinkReads*(tunRoom+tun.HdrLen+inboxMaxFrame))
	for i := range r.rbuf {
		r.rbuf[i], rmem = rmem[:tunRoom+tun.HdrLen+inboxMaxFrame], rmem[tunRoom+tun.HdrLen+inboxMaxFrame:]
	}
	wlen := tun.HdrLen + u.mtu
	wmem := make([]byte, uplinkWrites*wlen)
	for i := range r.wbuf {
		r.wbuf[i], wmem = wmem[:wlen:wlen], wmem[wlen:]
		r.wfree[i] = uint16(i)
	}
	r.nfree = uplinkWrites
	started := make(chan error, 1)
	go r.run(started)
	if err := <-started; err != nil {
		<-r.done
		return nil, err
	}
	return r, nil
}

// run is the reactor's thread; like a NIC reactor's, it never unlocks.
func (r *UplinkReactor) run(started chan<- error) {
	runtime.LockOSThread()
	debug.SetPanicOnFault(true)
	log := r.up.dp.cfg.Log
	defer func() {
		v := recover()
		r.cleanup()
		close(r.done)
		if v != nil {
			log.Error("uplink reactor crashed", "uplink", r.up.Name(), "panic", v)
			r.events(Crashed{Value: v, Stack: debug.Stack()})
		}
	}()
	ring, err := threadRing(r.up.dp.cfg.CPUs, uplinkEntries)
	if err != nil {
		started <- err
		return
	}
	r.ring = ring
	started <- nil
	r.loop()
}

// cleanup withdraws every pending request, so no completion writes into
// the reactor's buffers after it, and closes the ring; it must not panic.
func (r *UplinkReactor) cleanup() {
	defer func() {
		if v := recover(); v != nil {
			r.up.dp.cfg.Log.Error("uplink reactor cleanup failed", "panic", v)
		}
	}()
	if r.ring != nil {
		cancelAll(r.ring, r.cqes)
		r.ring.QueueExit()
	}
	_ = unix.Close(r.bell)
}

// Stop stops the reactor and waits for its thread to end. The device and
// the inbox stay open.
func (r *UplinkReactor) Stop() {
	r.send(cmdStop{})
	<-r.done
}

// Done is closed when the reactor's thread has ended.
func (r *UplinkReactor) Done() <-chan struct{} { return r.done }

// InjectPanic makes the reactor panic on its thread: a fault-injection
// hook for testing supervision.
func (r *UplinkReactor) InjectPanic() { r.send(cmdPanic{}) }

func (r *UplinkReactor) send(c command) {
	select {
	case r.cmds <- c:
		eventfd.Signal(r.bell)
	case <-r.done:
	}
}

// loop waits on the ring and dispatches completions until stopped; after
// each wake-up it writes what the inbox holds to the TUN. It sleeps when
// the inbox is empty (parked) or every write buffer is in flight (a write
// completion wakes it).
func (r *UplinkReactor) loop() {
	ib := r.up.dest.Inbox
	// Frames a crashed predecessor took but did not release are lost;
	// releasing them gives their senders' lent TX chains back.
	ib.Release()
	for i := range r.rbuf {
		r.armRead(i)
	}
	r.armBell()
	r.armInbox()
	for !r.stopping {
		wait := uint32(0)
		parked := r.nfree > 0 && !r.short && ib.Park()
		if parked || r.nfree == 0 || r.short {
			wait = 1
		}
		_, err := r.ring.SubmitAndWait(wait)
		if parked {
			ib.Unpark()
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			panic(fmt.Errorf("uplink io_uring wait: %w", err))
		}
		n := r.ring.PeekBatchCQE(r.cqes)
		for _, c := range r.cqes[:n] {
			r.dispatch(c.UserData, c.Res)
		}
		r.ring.CQAdvance(n)
		r.flushRouted()
		r.toKernel()
		r.batch.flush(&r.up.stats)
	}
}

func (r *UplinkReactor) dispatch(ud uint64, res int32) {
	kind, _, idx := untag(ud)
	switch kind {
	case kindTunRead:
		switch {
		case res >= 0:
			r.fromKernel(r.rbuf[idx], int(res))
		case res == -int32(unix.ECANCELED):
			return
		case res != -int32(unix.EAGAIN) && res != -int32(unix.EINTR):
			panic(fmt.Errorf("read from %s: %w", r.up.Name(), unix.Errno(-res)))
		}
		r.armRead(idx)
	case kindTunWrite:
		if res < 0 {
			r.drop(DropUplinkWrite)
		}
		r.wfree[r.nfree] = uint16(idx)
		r.nfree++
	case kindBell:
		r.drainCommands()
		if !r.stopping {
			r.armBell()
		}
	case kindInbox:
		r.armInbox()
	}
}

func (r *UplinkReactor) drainCommands() {
	for {
		select {
		case c := <-r.cmds:
			switch c.(type) {
			case cmdStop:
				r.stopping = true
			case cmdPanic:
				panic("injected uplink reactor panic")
			}
		default:
			return
		}
	}
}

func (r *UplinkReactor) armRead(i int) {
	e := nextSQE(r.ring)
	e.PrepareRead(r.up.dev.Fd(), r.rbuf[i][tunRoom:], 0)
	e.UserData = tag(kindTunRead, 0, i)
}

func (r *UplinkReactor) armBell() {
	e := nextSQE(r.ring)
	e.PrepareRead(r.bell, r.bellBuf[:], 0)
	e.UserData = tag(kindBell, 0, 0)
}

func (r *UplinkReactor) armInbox() {
	e := nextSQE(r.ring)
	e.PrepareRead(r.up.dest.Inbox.Doorbell(), r.inboxBuf[:], 0)
	e.UserData = tag(kindInbox, 0, 0)
}

func (r *UplinkReactor) drop(why DropReason) {
	r.up.stats.Drops[why].Add(1)
}
