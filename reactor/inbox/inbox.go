package inbox

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"
)

// Inbox is the packet inbox of one reactor.
//
// The inbox owns its ring memory for its whole life: producers borrow a
// Slot's bytes from Reserve until Commit or Cancel, the consumer borrows a
// frame's bytes from Next until Release. Neither may keep a view after
// giving it back. Reserve, Slot methods, Flush and Drops may be called from
// any goroutine; Next, Release, Park and Unpark belong to the consumer, one
// goroutine at a time (a restarted reactor may take over the role of a
// crashed one: frames the crashed one took but did not release are lost,
// not stuck).
//
// Slot memory is mapped outside the Go heap, on huge pages if
// Config.Hugepages says so. Its pages go back (huge pages to their pool)
// at Close, but it stays mapped, on fresh normal pages, so that a
// producer still writing a slot it reserved before Close, or holding the
// inbox through a route table not yet replaced, never touches unmapped
// memory; it is unmapped when the Inbox itself is no longer reachable. Every view of the
// ring is borrowed through the Inbox, which keeps it reachable while the
// view is in use.
type Inbox struct {
	// Set by New, read-only afterwards (closed is written once, by Close).
	meta     []slot
	ext      []slotExt
	data     []byte
	slots    *slotMem
	mask     uint64
	maxFrame int
	closed   atomic.Bool

	_ cpu.CacheLinePad
	// tail is the next position to reserve; producers CAS it.
	tail atomic.Uint64

	_ cpu.CacheLinePad
	// parked is 1 while the consumer may be waiting on the doorbell.
	parked atomic.Uint32

	_ cpu.CacheLinePad
	// head is the first position not yet released, read the first not yet
	// taken by Next; both only the consumer's.
	head, read uint64

	_ cpu.CacheLinePad
	// waiting counts the producers registered in waiters, so that Release
	// pays one atomic load when none waits.
	waiting atomic.Int32
	waiters [maxWaiters]atomic.Pointer[Inbox]

	_     cpu.CacheLinePad
	drops [NumDropReasons]atomic.Uint64

	// bellMu guards bell against Close: a producer rings under the read
	// lock, Close closes the eventfd under the write lock, so no producer
	// ever writes to an fd number that has been closed and perhaps reused.
	// Only the ringing path (consumer parked) takes it.
	bellMu sync.RWMutex
	bell   int
}

// slot is the bookkeeping of one slot; see the package doc for seq.
type slot struct {
	seq atomic.Uint64
	// n is the length of the frame's bytes in the ring, 0 for a cancelled
	// reservation; span is the number of slots they occupy; ext says what
	// of the frame is in the slot's slotExt (see Slot.Attach and
	// Slot.SetHeader); tail is the rest of the frame, outside the ring,
	// when it is in one piece. Written before seq marks the frame
	// committed, read after.
	n    uint32
	span uint16
	ext  uint8
	_    uint8
	tail [1][]byte
	// inline holds the bytes of a frame of up to InlineLen bytes, instead
	// of the slot's data: consecutive positions then use consecutive
	// memory, two cache lines each with the bookkeeping, where slots of
	// data are a power of two apart and fall into the same few cache
	// sets as each other and as the guests' buffers.
	inline [InlineLen]byte
}

// What a slot keeps in its slotExt (slot.ext).
const (
	extPieces uint8 = 1 << iota // the tail is in several pieces
	extHeader                   // the frame has a non-zero Header
)

// slotExt is what only some frames need, kept apart from the slots'
// bookkeeping so that a plain frame, lent in one piece or not, costs the
// consumer one bookkeeping entry: the pieces of a tail in several, and a
// virtio_net_hdr that is not all zero.
type slotExt struct {
	pieces [][]byte
	hdr    Header
}

// InlineLen is the longest frame (or frame head, see Slot.Attach) that is
// kept with a slot's bookkeeping rather than in its data: it makes a slot's
// bookkeeping 128 bytes, and holds an Ethernet header, the longest IPv4
// header and a transport header's ports.
const InlineLen = 88

// HeaderLen is the length of a Header.
const HeaderLen = 10

// Header is the virtio_net_hdr a frame travels with (struct
// virtio_net_hdr, without num_buffers), as its sender validated it. The
// inbox only carries it; all zero is a plain frame without offloads.
type Header [HeaderLen]byte

// Frame is a frame as the consumer takes it: Head, its bytes in the ring,
// then Tail, the pieces its producer attached (nil if none), and Hdr. The
// consumer borrows Head and Tail until Release.
type Frame struct {
	Head []byte
	Tail [][]byte
	Hdr  Header
}

// Len returns the frame's length, head and tail.
func (f *Frame) Len() int {
	n := len(f.Head)
	for _, p := range f.Tail {
		n += len(p)
	}
	return n
}

// New allocates an inbox and its doorbell eventfd. With Config.Hugepages
// its slot memory is on huge pages, or New fails with an error wrapping
// hugepage.ErrNoPages that says how many pages it needs.
func New(cfg Config) (*Inbox, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	size := dataSize(cfg)
	mem, err := allocSlots(size, cfg.Hugepages)
	if err != nil {
		return nil, err
	}
	bell, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unmap(mem.mem)
		return nil, fmt.Errorf("inbox doorbell eventfd: %w", err)
	}
	q := &Inbox{
		meta:     make([]slot, cfg.Slots),
		ext:      make([]slotExt, cfg.Slots),
		mask:     uint64(cfg.Slots) - 1,
		maxFrame: cfg.MaxFrame,
		bell:     bell,
	}
	q.data, q.slots = mem.mem[:size:size], mem
	runtime.AddCleanup(q, unmap, mem.mem)
	for i := range q.meta {
		q.meta[i].seq.Store(uint64(i))
	}
	return q, nil
}

// OnHugepages reports whether the inbox's slot memory is on huge pages.
func (q *Inbox) OnHugepages() bool { return q.slots.huge }

// Doorbell returns the eventfd the consumer waits on: a READ of 8 bytes
// completes after a Flush found the consumer parked. The inbox owns the fd
// and closes it in Close.
func (q *Inbox) Doorbell() int {
	q.bellMu.RLock()
	defer q.bellMu.RUnlock()
	return q.bell
}

// MaxFrame returns the longest frame the inbox accepts.
func (q *Inbox) MaxFrame() int { return q.maxFrame }

// Close refuses every later reservation and closes the doorbell. Producers
// that still hold the inbox (through a route table not yet replaced) keep
// working on valid memory: their Reserve fails and counts DropClosed, and
// a Commit of a slot reserved before Close is harmless. Frames still in
// the ring are discarded. A doorbell READ still armed on an io_uring keeps
// the eventfd's file open until it is cancelled or the ring torn down, and
// never completes; the consumer cancels it first. Slot memory goes back
// (huge pages to their pool; see Inbox). Close is idempotent.
func (q *Inbox) Close() error {
	q.bellMu.Lock()
	defer q.bellMu.Unlock()
	if q.closed.Swap(true) {
		return nil
	}
	err := q.slots.release()
	fd := q.bell
	q.bell = -1
	if cerr := unix.Close(fd); cerr != nil {
		return errors.Join(err, fmt.Errorf("close inbox doorbell: %w", cerr))
	}
	return err
}

// frame returns the bytes of a frame of n bytes at position pos: inline
// if they fit, else in the slots' data, whose overflow tail makes them
// contiguous even when they wrap.
func (q *Inbox) frame(pos uint64, n int) []byte {
	if n <= InlineLen {
		return q.meta[pos&q.mask].inline[:n:n]
	}
	off := int(pos&q.mask) << slotShift
	return q.data[off : off+n : off+n]
}
