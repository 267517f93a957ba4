package reactor

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// A port's reactor (its thread, io_uring, buffers) is started only when
// the port needs one: when a frontend connects to its socket, or frames
// wait in its inbox. Until then one watcher serves every such port of the
// process: an epoll, on its own goroutine, on each waiting port's
// listening socket and inbox doorbell. A NIC created and not connected
// costs a socket and an inbox, not a thread.

// demandWatch is the watcher. Its goroutine runs while a port waits.
type demandWatch struct {
	mu sync.Mutex
	// ep is the epoll and stop the eventfd that ends the goroutine
	// serving it; ep is -1 while none runs.
	ep, stop int
	next     uint64
	waits    map[uint64]*demandWait
}

// demandWait is one port's wait: the descriptors watched and what to call
// when one of them is readable.
type demandWait struct {
	fds  [2]int
	wake func()
}

// stopID marks the stop eventfd's events.
const stopID = 0

var demand = demandWatch{ep: -1, next: stopID + 1, waits: map[uint64]*demandWait{}}

// AwaitDemand calls wake, once and from another goroutine, when the port
// needs a reactor: a frontend connects to its socket, or frames wait in
// its inbox (frames to a NIC without a frontend are dropped by its
// reactor, and lent ones given back). The port must listen, and no
// reactor may serve it meanwhile. The returned cancel ends the wait; it
// must be called before the port's socket or inbox is closed, and may be
// called after wake. A wake already under way when cancel is called may
// still arrive after it: the caller must recognise a stale one.
func (p *Port) AwaitDemand(wake func()) (cancel func(), err error) {
	if p.ln == nil {
		return nil, fmt.Errorf("await a frontend: port does not listen")
	}
	// Parked, the inbox rings its doorbell at the next frame flushed.
	if !p.inbox.Park() {
		go wake()
		return func() {}, nil
	}
	id, err := demand.add(&demandWait{fds: [2]int{p.ln.Fd(), p.inbox.Doorbell()}, wake: wake})
	if err != nil {
		return nil, err
	}
	return func() { demand.remove(id) }, nil
}

// add watches w's descriptors, starting the goroutine if none runs.
func (d *demandWatch) add(w *demandWait) (uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ep < 0 {
		if err := d.start(); err != nil {
			return 0, err
		}
	}
	id := d.next
	d.next++
	for i, fd := range w.fds {
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: int32(id), Pad: int32(id >> 32)}
		if err := unix.EpollCtl(d.ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			for _, added := range w.fds[:i] {
				_ = unix.EpollCtl(d.ep, unix.EPOLL_CTL_DEL, added, nil)
			}
			d.stopIfIdle()
			return 0, fmt.Errorf("await a frontend: epoll: %w", err)
		}
	}
	d.waits[id] = w
	return id, nil
}

// remove ends the wait id, if it is still there, and reports whether it
// was.
func (d *demandWatch) remove(id uint64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.drop(id) != nil
}

// drop ends the wait id and returns it (nil if it ended already); the
// goroutine stops with the last wait. d.mu is held.
func (d *demandWatch) drop(id uint64) *demandWait {
	w := d.waits[id]
	if w == nil {
		return nil
	}
	delete(d.waits, id)
	for _, fd := range w.fds {
		_ = unix.EpollCtl(d.ep, unix.EPOLL_CTL_DEL, fd, nil)
	}
	d.stopIfIdle()
	return w
}

// start makes the epoll and runs its goroutine. d.mu is held.
func (d *demandWatch) start() error {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("await a frontend: epoll: %w", err)
	}
	stop, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = unix.Close(ep)
		return fmt.Errorf("await a frontend: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: stopID}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, stop, &ev); err != nil {
		_, _ = unix.Close(ep), unix.Close(stop)
		return fmt.Errorf("await a frontend: epoll: %w", err)
	}
	d.ep, d.stop = ep, stop
	go d.run(ep, stop)
	return nil
}

// stopIfIdle ends the goroutine once no port waits. d.mu is held.
func (d *demandWatch) stopIfIdle() {
	if len(d.waits) > 0 || d.ep < 0 {
		return
	}
	one := [8]byte{1}
	_, _ = unix.Write(d.stop, one[:])
	d.ep, d.stop = -1, -1
}

// run waits on ep until its stop eventfd is signalled, and wakes each
// port one of whose descriptors became readable, ending its wait.
func (d *demandWatch) run(ep, stop int) {
	defer func() { _, _ = unix.Close(ep), unix.Close(stop) }()
	events := make([]unix.EpollEvent, 64)
	for {
		n, err := unix.EpollWait(ep, events, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			panic(fmt.Errorf("await a frontend: epoll wait: %w", err))
		}
		var wake []func()
		d.mu.Lock()
		for _, ev := range events[:n] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if id == stopID {
				d.mu.Unlock()
				return
			}
			if w := d.drop(id); w != nil {
				wake = append(wake, w.wake)
			}
		}
		d.mu.Unlock()
		for _, f := range wake {
			f()
		}
	}
}

// CheckStart reports what would keep a reactor from starting on the port
// and can be known without starting one: reactor CPUs (DataplaneConfig)
// none of which the daemon may run on.
func (p *Port) CheckStart() error { return checkCPUs(p.net.dp.cfg.CPUs) }

// checkCPUs fails if cpus is not empty and holds none of the CPUs the
// calling thread may run on: pinning a reactor to them would fail.
func checkCPUs(cpus []int) error {
	if len(cpus) == 0 {
		return nil
	}
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		return fmt.Errorf("reactor cpus %v: %w", cpus, err)
	}
	for _, c := range cpus {
		if allowed.IsSet(c) {
			return nil
		}
	}
	return fmt.Errorf("pin reactor to cpus %v: the daemon may run on none of them: %w", cpus, unix.EINVAL)
}
