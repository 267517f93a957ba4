package reactor

import (
	"fmt"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/guestmem"
	"mvirt-net/reactor/vhostuser"
	"mvirt-net/reactor/virtq"
)

// The Reactor is the vhostuser.Device of its NIC: the Session calls these
// on the reactor's thread while it handles the frontend's messages.

// AddRegion maps a region of guest memory.
func (r *Reactor) AddRegion(reg vhostuser.Region) error {
	// The Session keeps its descriptor; the table consumes its own copy.
	fd, err := unix.Dup(reg.Fd)
	if err != nil {
		return fmt.Errorf("dup memory fd: %w", err)
	}
	return r.mem.Add(memRegion(reg), fd)
}

// RemoveRegion unmaps a region of guest memory, once no destination reads
// frames lent from it; if one still does after settleTimeout, the region
// stays mapped.
func (r *Reactor) RemoveRegion(reg vhostuser.Region) {
	if !r.settle() {
		return
	}
	if err := r.mem.Remove(memRegion(reg)); err != nil {
		r.cfg.Log.Warn("remove memory region", "nic", r.cfg.NicID, "err", err)
	}
}

func memRegion(reg vhostuser.Region) guestmem.Region {
	return guestmem.Region{
		GuestPhysAddr: reg.GuestPhysAddr, Size: reg.Size,
		UserspaceAddr: reg.UserspaceAddr, MmapOffset: reg.MmapOffset,
	}
}

// StartRing starts queue q and, for TX, processes what the guest queued
// at once: a guest kicks only when it adds buffers, so a ring restarted
// after a reconnect or a reactor restart must not wait for a kick.
func (r *Reactor) StartRing(q int, cfg vhostuser.RingConfig) error {
	qs := &r.queues[q]
	dir := virtq.DeviceReads
	if q == rxQueue {
		dir = virtq.DeviceWrites
	}
	err := qs.q.Setup(&r.mem, virtq.Config{
		Size: cfg.Size, Features: virtq.Features(cfg.Features), Dir: dir, Space: virtq.UserAddrs,
		Desc: cfg.Desc, Avail: cfg.Avail, Used: cfg.Used, LastAvail: cfg.Base,
	})
	if err != nil {
		return fmt.Errorf("set up queue %d: %w", q, err)
	}
	if cfg.Kick < 0 {
		return fmt.Errorf("queue %d: polling rings without a kick eventfd are not supported", q)
	}
	qs.running, qs.kick, qs.call = true, cfg.Kick, cfg.Call
	qs.gen++
	if q == txQueue {
		r.inflight.reserve(int(cfg.Size))
	}
	r.hdrLen = virtq.NetHeaderLen(virtq.Features(cfg.Features))
	r.negotiate(cfg.Features)
	r.faulted = ""
	r.armKick(q)
	r.cfg.Log.Debug("ring started", "nic", r.cfg.NicID, "queue", q, "size", cfg.Size, "base", cfg.Base)
	r.updateState()
	if q == txQueue {
		r.processTx()
	}
	return nil
}

// StopRing stops queue q and returns where the guest should resume. TX
// chains lent to destinations go back to the guest first, as their
// destinations release them.
func (r *Reactor) StopRing(q int) uint16 {
	qs := &r.queues[q]
	if q == txQueue {
		r.settle()
	}
	if qs.running {
		r.cancel(tag(kindKick, qs.gen, q))
		qs.running = false
		qs.gen++
	}
	if q == txQueue {
		r.txMore = false
	}
	r.updateState()
	return qs.q.LastAvail()
}

// fault stops both rings of a guest that broke the virtio rules: the NIC
// is in error ("needs reset") until the frontend restarts its rings or
// reconnects. Nothing the guest wrote is touched again.
func (r *Reactor) fault(q int, f virtq.Fault) {
	r.cfg.Log.Error("guest violated the virtqueue contract; rings stopped until reset",
		"nic", r.cfg.NicID, "queue", q, "fault", f.String())
	r.faulted = fmt.Sprintf("queue %d: %s", q, f)
	for i := range r.queues {
		qs := &r.queues[i]
		if qs.running {
			r.cancel(tag(kindKick, qs.gen, i))
			qs.running = false
			qs.gen++
		}
	}
	r.txMore = false
	r.rxPending = false
	r.updateState()
}
