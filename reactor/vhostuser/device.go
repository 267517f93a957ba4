package vhostuser

// Device is what a Session configures: the virtio-net device behind one
// vhost-user socket, in the daemon the NIC's reactor. The Session calls it
// from the goroutine that calls the Session, never concurrently, and only
// between messages of the front-end.
//
// The order of calls is fixed: a ring is started only while it has memory;
// every change to a running ring (addresses, size, base, eventfds,
// features) and every change to the memory table is preceded by StopRing of
// the rings it affects and followed by StartRing again if they can still
// run. StartRing and StopRing alternate for each ring.
type Device interface {
	// AddRegion makes a region of guest memory available, typically by
	// mapping r.Fd shared at r.MmapOffset for r.Size bytes. The descriptor
	// stays the Session's: it is valid until RemoveRegion returns for this
	// region or the Session closes, and the Device must not close it (a
	// mapping survives the close of its descriptor). An error refuses the
	// region.
	AddRegion(r Region) error
	// RemoveRegion withdraws a region given to AddRegion, identified by its
	// GuestPhysAddr. No ring runs when it is called.
	RemoveRegion(r Region)
	// StartRing starts processing queue q (0 receive, 1 transmit) as cfg
	// describes. The descriptors in cfg stay the Session's and are valid
	// until StopRing(q) returns. An error leaves the ring stopped until its
	// configuration or the memory changes; the Session signals the ring's
	// error eventfd, if any.
	StartRing(q int, cfg RingConfig) error
	// StopRing stops processing queue q, which StartRing started, and
	// returns the index of the next available descriptor it would have
	// taken (last_avail_idx). After it returns the Device must not touch
	// the ring or its descriptors.
	StopRing(q int) (nextAvail uint16)
}

// Region is a region of guest memory and the descriptor it is mapped from.
type Region struct {
	MemoryRegion
	Fd int
}

// RingConfig is everything a Device needs to run one split virtqueue.
// Desc, Avail and Used are addresses in the front-end's (VMM's) virtual
// address space: translate them through the regions' UserspaceAddr.
type RingConfig struct {
	// Features are the virtio features the driver acknowledged
	// (FeatureEventIdx, FeatureMrgRxbuf, ...).
	Features uint64
	// Size is the number of descriptors, a power of two.
	Size uint16
	// Base is the index of the next available descriptor to take.
	Base  uint16
	Desc  uint64
	Avail uint64
	Used  uint64
	// Kick is the eventfd the driver's notifications arrive on, or -1: no
	// notifications, poll the ring.
	Kick int
	// Call is the eventfd to write to interrupt the driver, or -1: none.
	Call int
	// Err is the eventfd to write on a ring error, or -1: none.
	Err int
}
