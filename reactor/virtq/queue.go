package virtq

import (
	"errors"
	"fmt"

	"mvirt-net/reactor/guestmem"

	"mvirt-net/reactor/virtq/ringword"
)

// Direction says which buffers a queue's chains may hold.
type Direction uint8

// Directions. virtio-net transmit queues are DeviceReads, receive queues
// DeviceWrites.
const (
	DeviceReads  Direction = iota + 1 // only device-readable buffers (TX)
	DeviceWrites                      // only device-writable buffers (RX)
	AnyDirection                      // readable buffers, then writable ones
)

// AddrSpace says which address space Config's ring addresses are in.
type AddrSpace uint8

// Address spaces for ring addresses.
const (
	UserAddrs AddrSpace = iota + 1 // frontend virtual addresses (vhost-user SET_VRING_ADDR)
	GuestPhys                      // guest-physical addresses
)

// Config is everything a Queue needs to start: the vhost-user messages
// SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE and the negotiated features.
type Config struct {
	Size      uint16    // queue size: a power of 2, at most MaxSize
	Features  Features  // negotiated features; EVENT_IDX, INDIRECT_DESC, MRG_RXBUF, VERSION_1 matter
	Dir       Direction // which buffers chains may hold
	Space     AddrSpace // address space of Desc, Avail and Used
	Desc      uint64    // descriptor table address
	Avail     uint64    // available ring address
	Used      uint64    // used ring address
	LastAvail uint16    // index of the next avail ring entry to pop (SET_VRING_BASE)
}

// Queue is the device side of one split virtqueue. The zero Queue is
// unusable until Setup succeeds. A Queue belongs to one goroutine; see the
// package documentation for the ownership of what it returns.
type Queue struct {
	mem  *guestmem.Table
	size uint16
	dir  Direction

	desc     []byte // the descriptor table, exactly (16-aligned, so never padded)
	avail    []byte // the available ring, padded to whole 32-bit words
	availOff int    // offset of the available ring in avail
	used     []byte // the used ring, padded to whole 32-bit words

	lastAvail uint16 // next avail ring entry to pop
	availIdx  uint16 // avail idx as last read; lastAvail never passes it
	usedIdx   uint16 // used idx as last published
	pending   uint16 // used elements written but not yet published
	signalled uint16 // used idx when NeedsNotify last looked
	usedFlags uint16 // our copy of used.flags
	eventIdx  bool
	indirect  bool
	mergeable bool
}

// Setup (re)starts q on the rings cfg describes in mem. It checks the
// configuration and the ring addresses, reads the used idx the rings hold
// (a reconnecting backend continues from there) and enables driver
// notifications. On error q is left as it was. The Queue keeps mem and
// views into it: run Setup again after the table changes.
func (q *Queue) Setup(mem *guestmem.Table, cfg Config) error {
	if cfg.Size == 0 || cfg.Size > MaxSize || cfg.Size&(cfg.Size-1) != 0 {
		return fmt.Errorf("virtq setup: size %d is not a power of 2 up to %d", cfg.Size, MaxSize)
	}
	if cfg.Dir < DeviceReads || cfg.Dir > AnyDirection {
		return fmt.Errorf("virtq setup: invalid direction %d", cfg.Dir)
	}
	n := int(cfg.Size)
	desc, err := ringView(mem, cfg.Space, cfg.Desc, descSize*n, descTableAlign)
	if err != nil {
		return fmt.Errorf("virtq setup: descriptor table: %w", err)
	}
	avail, err := ringView(mem, cfg.Space, cfg.Avail, availLen(n), availAlign)
	if err != nil {
		return fmt.Errorf("virtq setup: available ring: %w", err)
	}
	used, err := ringView(mem, cfg.Space, cfg.Used, usedLen(n), usedAlign)
	if err != nil {
		return fmt.Errorf("virtq setup: used ring: %w", err)
	}
	*q = Queue{
		mem:       mem,
		size:      cfg.Size,
		dir:       cfg.Dir,
		desc:      desc.b,
		avail:     avail.b,
		availOff:  avail.off,
		used:      used.b,
		lastAvail: cfg.LastAvail,
		availIdx:  cfg.LastAvail,
		eventIdx:  cfg.Features.Has(FeatureEventIdx),
		indirect:  cfg.Features.Has(FeatureIndirectDesc),
		mergeable: cfg.Features.Has(FeatureNetMrgRxBuf),
	}
	q.usedIdx = ringword.Load16(q.used, usedIdxOff)
	q.signalled = q.usedIdx
	ringword.Store16(q.used, usedFlagsOff, 0)
	if q.eventIdx {
		ringword.Store16(q.used, q.availEventOff(), q.lastAvail)
	}
	return nil
}

// Size returns the queue size.
func (q *Queue) Size() uint16 { return q.size }

// LastAvail returns the index of the next avail ring entry to pop: the
// answer to vhost-user GET_VRING_BASE.
func (q *Queue) LastAvail() uint16 { return q.lastAvail }

// UsedIdx returns the used idx as last published. If it differs from
// LastAvail, popped chains have not been given back yet.
func (q *Queue) UsedIdx() uint16 { return q.usedIdx }

// usedEventOff and availEventOff locate the event index fields that end
// the available and used rings.
func (q *Queue) usedEventOff() int  { return q.availOff + availRingOff + 2*int(q.size) }
func (q *Queue) availEventOff() int { return usedRingOff + usedElemSize*int(q.size) }

// view is a ring's host view, padded so that every 16-bit field's aligned
// 32-bit word lies inside b; the ring starts at b[off].
type view struct {
	b   []byte
	off int
}

// errRingUnaligned reports a ring whose host address breaks the spec's
// alignment, which the atomics need.
var errRingUnaligned = errors.New("misaligned")

// ringView translates the n-byte ring at addr, checks its alignment in
// guest and host space and pads the view to whole aligned 32-bit words.
// The padding is only ever read, or written back unchanged, by store16.
func ringView(mem *guestmem.Table, space AddrSpace, addr uint64, n int, align uint64) (view, error) {
	if addr%align != 0 {
		return view{}, fmt.Errorf("address %#x: %w to %d", addr, errRingUnaligned, align)
	}
	b, ok := translate(mem, space, addr, uint64(n))
	if !ok {
		return view{}, fmt.Errorf("%d bytes at %#x: not inside one guest memory region", n, addr)
	}
	h := ringword.HostAddr(b)
	if uint64(h)%min(align, 4) != 0 {
		return view{}, fmt.Errorf("host address %#x for %#x: %w to %d", h, addr, errRingUnaligned, align)
	}
	lead := int(h & 3)
	tail := int(-(h + uintptr(n)) & 3)
	if lead == 0 && tail == 0 {
		return view{b: b}, nil
	}
	b, ok = translate(mem, space, addr-uint64(lead), uint64(lead+n+tail))
	if !ok || ringword.HostAddr(b)&3 != 0 {
		return view{}, fmt.Errorf("%d bytes at %#x: the ring's 32-bit words are not inside one guest memory region", n, addr)
	}
	return view{b: b, off: lead}, nil
}

// translate looks addr up in the given address space.
func translate(mem *guestmem.Table, space AddrSpace, addr, n uint64) ([]byte, bool) {
	switch space {
	case UserAddrs:
		return mem.TranslateUser(addr, n)
	case GuestPhys:
		return mem.Translate(addr, n)
	}
	return nil, false
}
