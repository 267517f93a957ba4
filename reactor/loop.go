package reactor

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/guestmem"
	"mvirt-net/reactor/uring"
	"mvirt-net/reactor/vhostuser"
)

// What a completion is about: the kind in the top byte of its user data, a
// generation in the next three (to ignore completions of a connection or
// ring that has since been replaced), a queue index in the low word.
const (
	kindListen uint64 = iota + 1
	kindConn
	kindKick
	kindBell
	kindCancel
	kindTimer
	kindInbox
	kindRetry
)

func tag(kind uint64, gen uint32, idx int) uint64 {
	return kind<<56 | uint64(gen&0xffffff)<<32 | uint64(idx)
}

func untag(ud uint64) (kind uint64, gen uint32, idx int) {
	return ud >> 56, uint32(ud>>32) & 0xffffff, int(uint32(ud))
}

// sqe returns a free submission entry, submitting to make room if needed.
func (r *Reactor) sqe() *uring.SubmissionQueueEntry { return nextSQE(r.ring) }

// nextSQE is Reactor.sqe for any ring.
func nextSQE(ring *uring.Ring) *uring.SubmissionQueueEntry {
	for {
		if e := ring.GetSQE(); e != nil {
			return e
		}
		if _, err := ring.Submit(); err != nil {
			panic(fmt.Errorf("io_uring submit: %w", err))
		}
	}
}

func (r *Reactor) armListen() {
	e := r.sqe()
	e.PreparePollAdd(r.cfg.Listener.Fd(), unix.POLLIN)
	e.UserData = tag(kindListen, 0, 0)
}

func (r *Reactor) armBell() {
	e := r.sqe()
	e.PrepareRead(r.bell, r.bellBuf[:], 0)
	e.UserData = tag(kindBell, 0, 0)
}

func (r *Reactor) armConn() {
	e := r.sqe()
	e.PreparePollAdd(r.conn.Fd(), unix.POLLIN|unix.POLLRDHUP)
	e.UserData = tag(kindConn, r.connGen, 0)
}

func (r *Reactor) armKick(q int) {
	qs := &r.queues[q]
	e := r.sqe()
	e.PrepareRead(qs.kick, qs.kickBuf[:], 0)
	e.UserData = tag(kindKick, qs.gen, q)
}

// armInbox waits for the inbox doorbell.
func (r *Reactor) armInbox() {
	e := r.sqe()
	e.PrepareRead(r.cfg.Inbox.Doorbell(), r.inboxBuf[:], 0)
	e.UserData = tag(kindInbox, 0, 0)
}

// armRetry schedules a TX pass and an inbox drain after maxBlock, once:
// for a ring held back by a full inbox whose consumer does not wake it
// (one that stopped, say), and for inbox frames waiting for RX buffers
// that the guest may never add (maxRxWait).
func (r *Reactor) armRetry() {
	if r.retryArmed {
		return
	}
	r.retryArmed = true
	r.retryTimer = uring.NsecToTimespec(int64(maxBlock))
	e := r.sqe()
	e.PrepareTimeout(&r.retryTimer, 0, 0)
	e.UserData = tag(kindRetry, 0, 0)
}

// unblocked reports whether a TX ring held back by a full inbox may go on.
func (r *Reactor) unblocked() bool {
	return r.blockedOn != nil && r.blockedOn.Room(r.blockedLen)
}

// armTimer schedules the next unsolicited Router Advertisement.
func (r *Reactor) armTimer() {
	r.raTimer = uring.NsecToTimespec(int64(r.svc.RAInterval))
	e := r.sqe()
	e.PrepareTimeout(&r.raTimer, 0, 0)
	e.UserData = tag(kindTimer, 0, 0)
}

// cancel withdraws the pending request with user data ud; its completion
// arrives with -ECANCELED and is ignored by its generation.
func (r *Reactor) cancel(ud uint64) {
	e := r.sqe()
	e.PrepareCancel(ud, 0)
	e.UserData = tag(kindCancel, 0, 0)
}

// loop waits on the ring and dispatches completions until stopped. When a
// TX pass ran out of budget it only peeks, so other events interleave with
// a busy queue. For Config.BusyPoll after the last frame it polls the
// guest's TX ring and the inbox instead of sleeping, yielding the CPU
// between empty looks: a loaded NIC then costs no kick, doorbell or
// wake-up per batch.
func (r *Reactor) loop() {
	// Frames a crashed predecessor took from the inbox but did not
	// release are lost; releasing them gives their senders' lent TX
	// chains back.
	r.cfg.Inbox.Release()
	r.armListen()
	r.armBell()
	r.armTimer()
	r.armInbox()
	for !r.stopping {
		polling := r.cfg.BusyPoll > 0 && nanotime() < r.pollUntil
		wait := uint32(0)
		if !polling && !r.txMore && !r.unblocked() && r.quiesce() {
			wait = 1
		}
		_, err := r.ring.SubmitAndWait(wait)
		if wait == 1 {
			r.cfg.Inbox.Unpark()
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			panic(fmt.Errorf("io_uring wait: %w", err))
		}
		n := r.ring.PeekBatchCQE(r.cqes)
		for _, c := range r.cqes[:n] {
			r.dispatch(c.UserData, c.Res)
		}
		r.ring.CQAdvance(n)
		if !r.poll(polling) && polling {
			yield()
		}
	}
}

// poll does the data-plane work waiting in memory: TX chains the guest
// made available and frames in the inbox. It reports whether there was
// any. Work extends the busy-poll window while the reactor is polling;
// from sleep, the frames handled since the last poll (those of a kick
// included) open it only if there are Config.BusyPollBatch of them.
func (r *Reactor) poll(polling bool) bool {
	tx := &r.queues[txQueue]
	if r.txMore || r.unblocked() || (r.blockedOn == nil && tx.running && tx.q.Available()) {
		r.processTx()
	} else {
		r.reapTx()
	}
	r.drainInboxFrames()
	n := r.handled
	r.handled = 0
	if n > 0 && r.cfg.BusyPoll > 0 && (polling || n >= r.cfg.BusyPollBatch) {
		r.pollUntil = nanotime() + int64(r.cfg.BusyPoll)
	}
	return n > 0
}

// quiesce prepares to sleep on the ring: the guest is asked to kick for
// its next TX chain, the inbox is parked, so producers ring its doorbell
// (while its frames wait for RX buffers, the guest is asked to kick for
// its next ones too: see awaitRxBuffers), and the destinations of lent
// frames are asked to ring it when they release them. It reports false
// when work arrived meanwhile.
//
// The inbox is parked before the waits are registered and the room they
// wait for is looked at again: a destination that releases and takes the
// waiter in between then finds the inbox parked and rings (see the inbox
// package doc), and Park's fence makes the look see a release it missed.
func (r *Reactor) quiesce() bool {
	tx := &r.queues[txQueue]
	if r.blockedOn == nil && tx.running && tx.q.EnableNotify() {
		tx.q.DisableNotify()
		return false
	}
	if r.rxHeld() {
		if !r.awaitRxBuffers() {
			return false
		}
		r.cfg.Inbox.ParkHolding()
	} else if !r.cfg.Inbox.Park() {
		return false
	}
	if r.unblocked() || !r.awaitRelease() {
		r.cfg.Inbox.Unpark()
		return false
	}
	return true
}

// yield gives the CPU to another runnable thread, if there is one, between
// two empty looks at the rings. Unlike eventfd.Signal it is an ordinary
// system call: while another thread has the CPU, the Go scheduler may lend
// the reactor's P to the rest of the daemon.
func yield() {
	_, _, _ = unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
}

func (r *Reactor) dispatch(ud uint64, res int32) {
	kind, gen, idx := untag(ud)
	switch kind {
	case kindBell:
		r.drainInbox()
		if !r.stopping {
			r.armBell()
		}
	case kindInbox:
		r.armInbox()
	case kindRetry:
		r.retryArmed = false
		if r.blockedOn != nil {
			r.processTx()
		}
	case kindTimer:
		r.advertise()
		r.armTimer()
	case kindListen:
		r.acceptAll()
		r.armListen()
	case kindConn:
		if r.conn == nil || gen != r.connGen&0xffffff || res == -int32(unix.ECANCELED) {
			return
		}
		r.inSession = true
		err := r.conn.HandleReadable()
		r.inSession = false
		if err != nil {
			r.disconnect(err.Error())
			return
		}
		r.updateState()
		if r.conn != nil {
			r.armConn()
		}
	case kindKick:
		qs := &r.queues[idx]
		if !qs.running || gen != qs.gen&0xffffff || res < 0 {
			return
		}
		r.cfg.Stats.Kicks.Add(1)
		r.armKick(idx)
		// An RX kick (buffers added) needs nothing more: the poll
		// after every dispatch drains the inbox, frames that waited for
		// them included.
		if idx == txQueue {
			r.processTx()
		}
	}
}

// acceptAll takes every pending connection. A NIC has one frontend: while
// the connected one is alive, another is closed at once, logged and
// counted (Stats.RefusedFrontends), so a second VMM cannot take a running
// VM's NIC. A frontend that went away (a VMM that crashed and reconnects
// before the reactor has seen the old connection's end) is replaced.
func (r *Reactor) acceptAll() {
	for {
		fd, err := r.cfg.Listener.Accept()
		if errors.Is(err, vhostuser.ErrWouldBlock) {
			return
		}
		if err != nil {
			r.cfg.Log.Warn("accept on vhost-user socket", "nic", r.cfg.NicID, "err", err)
			return
		}
		if r.conn != nil && !r.conn.PeerGone() {
			_ = unix.Close(fd)
			r.cfg.Stats.RefusedFrontends.Add(1)
			r.cfg.Log.Warn("refused a second frontend: the NIC's frontend is connected", "nic", r.cfg.NicID)
			continue
		}
		if r.conn != nil {
			r.disconnect("replaced by a new connection")
		}
		r.connGen++
		r.conn = vhostuser.NewSession(fd, r, vhostuser.SessionConfig{
			Features: r.offered(), Logger: r.cfg.Log.With("nic", r.cfg.NicID), MaxMTU: r.mtu,
		})
		r.cfg.Log.Info("frontend connected", "nic", r.cfg.NicID)
		r.armConn()
	}
}

// disconnect ends the frontend connection: rings stop, memory is unmapped,
// the session closes its descriptors, and the socket accepts the next one.
func (r *Reactor) disconnect(reason string) {
	for q := range r.queues {
		if r.queues[q].running {
			r.StopRing(q)
		}
	}
	r.cancel(tag(kindConn, r.connGen, 0))
	if err := r.conn.Close(); err != nil {
		r.cfg.Log.Warn("close frontend connection", "nic", r.cfg.NicID, "err", err)
	}
	r.conn = nil
	r.connGen++
	if !r.settle() {
		// A destination may still read it: leave it mapped for good
		// rather than let it read whatever is mapped there next.
		r.mem = guestmem.Table{}
	} else if err := r.mem.Close(); err != nil {
		r.cfg.Log.Warn("unmap guest memory", "nic", r.cfg.NicID, "err", err)
	}
	r.faulted = ""
	r.cfg.Log.Info("frontend disconnected", "nic", r.cfg.NicID, "reason", reason)
	r.updateState()
}

// updateState reports the state the rings are in, if it changed. While a
// batch of frontend messages is being handled it waits for the end of the
// batch: a ring the frontend stops and restarts (a new call eventfd, say)
// is no state change.
func (r *Reactor) updateState() {
	if r.inSession {
		return
	}
	s, why := StateIdle, ""
	switch {
	case r.faulted != "":
		s, why = StateError, r.faulted
	case r.queues[rxQueue].running && r.queues[txQueue].running:
		s = StateActive
	}
	if s != r.state {
		r.state = s
		r.cfg.Events(StateChanged{State: s, Reason: why})
		if s == StateActive {
			r.advertise()
		}
	}
}
