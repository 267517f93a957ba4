package vmm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"mvirt-net/reactor/virtq/ringword"
)

// Descriptor and ring flags of a split virtqueue.
const (
	DescFNext         = 1 // VIRTQ_DESC_F_NEXT
	DescFWrite        = 2 // VIRTQ_DESC_F_WRITE
	DescFIndirect     = 4 // VIRTQ_DESC_F_INDIRECT
	AvailFNoInterrupt = 1 // VIRTQ_AVAIL_F_NO_INTERRUPT
	UsedFNoNotify     = 1 // VIRTQ_USED_F_NO_NOTIFY
)

// MaxIndirect is the number of entries of each indirect table a
// DriverQueue sets aside.
const MaxIndirect = 16

// DefaultBufSize is the size of the buffer behind each descriptor unless
// DriverQueueConfig says otherwise.
const DefaultBufSize = 2048

// ErrRingFull is returned when not enough descriptors are free for a chain.
var ErrRingFull = errors.New("vmm: virtqueue full")

// Desc is one descriptor (struct virtq_desc).
type Desc struct {
	Addr  uint64
	Len   uint32
	Flags uint16
	Next  uint16
}

// DriverQueueConfig shapes a DriverQueue.
type DriverQueueConfig struct {
	Size     uint16 // queue size, a power of 2
	EventIdx bool   // VIRTIO_F_EVENT_IDX negotiated
	Indirect bool   // put every chain of more than one buffer in an indirect table
	BufSize  int    // bytes behind each descriptor; 0 means DefaultBufSize
	// AvailOddWord places the available ring at an address that is 2 mod
	// 4, which the spec allows, to exercise the device's handling of it.
	AvailOddWord bool
}

// bufSize returns the effective buffer size.
func (c DriverQueueConfig) bufSize() uint64 {
	if c.BufSize <= 0 {
		return DefaultBufSize
	}
	return uint64(c.BufSize)
}

// MemoryNeeded returns how much guest memory NewDriverQueue allocates for
// c, alignment slack included.
func (c DriverQueueConfig) MemoryNeeded() uint64 {
	n := uint64(c.Size)
	need := 16*n + (8 + 2*n + 4) + (8 + 8*n + 4) + n*c.bufSize() + 64
	if c.Indirect {
		need += n * MaxIndirect * (16 + c.bufSize())
	}
	return need
}

// DriverQueue is a split virtqueue as a virtio-net driver in the guest
// fills and drains it. Every descriptor has a fixed buffer of BufSize
// bytes in guest memory (every indirect table entry too), into which
// AddChain copies what the device is to read.
//
// A DriverQueue belongs to one goroutine, which plays the driver; the
// device may run concurrently on the same memory. Its rings live in the
// GuestMemory it was made from and share its lifetime.
type DriverQueue struct {
	mem  *GuestMemory
	cfg  DriverQueueConfig
	size uint16
	buf  uint64 // buffer size

	descGPA, availGPA, usedGPA uint64
	desc                       []byte
	avail                      []byte // padded to whole words; the ring starts at availOff
	availOff                   int
	used                       []byte // padded to whole words

	bufGPA    uint64 // buffer of descriptor i: bufGPA + i*buf
	indGPA    uint64 // indirect table of head h: indGPA + h*MaxIndirect*16
	indBufGPA uint64 // buffer of entry j of head h's table: indBufGPA + (h*MaxIndirect+j)*buf

	free     []uint16 // free descriptor indexes
	inflight []chain  // by head; valid while live

	availIdx   uint16 // avail idx including chains added but not published
	kickedIdx  uint16 // avail idx at the last Publish
	lastUsed   uint16 // next used element to read
	availFlags uint16
	intrOn     bool // interrupts wanted (EnableInterrupts)
}

// chain is the driver's record of a chain it made available.
type chain struct {
	live     bool
	descs    []uint64 // guest addresses of its descriptors in walk order
	main     []uint16 // its descriptors in the main table, to free
	writable []span   // its device-writable buffers in order
}

// span is a range of guest memory.
type span struct {
	gpa uint64
	n   uint64
}

// NewDriverQueue allocates the rings and buffers in mem (see
// DriverQueueConfig.MemoryNeeded) and returns the queue with interrupts
// enabled.
func NewDriverQueue(mem *GuestMemory, cfg DriverQueueConfig) (*DriverQueue, error) {
	if cfg.Size == 0 || cfg.Size > 32768 || cfg.Size&(cfg.Size-1) != 0 {
		return nil, fmt.Errorf("vmm: driver queue: size %d is not a power of 2 up to 32768", cfg.Size)
	}
	if free := mem.Size() - mem.next; free < cfg.MemoryNeeded() {
		return nil, fmt.Errorf("vmm: driver queue: needs %d bytes of guest memory, %d free", cfg.MemoryNeeded(), free)
	}
	n := uint64(cfg.Size)
	q := &DriverQueue{mem: mem, cfg: cfg, size: cfg.Size, buf: cfg.bufSize(), inflight: make([]chain, n)}
	q.descGPA = mem.Alloc(16*n, 16)
	q.desc = mem.Bytes(q.descGPA, int(16*n))

	availLen := 6 + 2*n
	lead := uint64(0)
	if cfg.AvailOddWord {
		lead = 2
	}
	start := mem.Alloc((lead+availLen+3)&^3, 4)
	q.availGPA, q.availOff = start+lead, int(lead)
	q.avail = mem.Bytes(start, int((lead+availLen+3)&^3))

	usedLen := (6 + 8*n + 3) &^ 3
	q.usedGPA = mem.Alloc(usedLen, 4)
	q.used = mem.Bytes(q.usedGPA, int(usedLen))

	q.bufGPA = mem.Alloc(n*q.buf, 64)
	if cfg.Indirect {
		q.indGPA = mem.Alloc(n*MaxIndirect*16, 16)
		q.indBufGPA = mem.Alloc(n*MaxIndirect*q.buf, 64)
	}
	for i := int(n) - 1; i >= 0; i-- {
		q.free = append(q.free, uint16(i))
	}
	q.EnableInterrupts()
	return q, nil
}

// Size returns the queue size.
func (q *DriverQueue) Size() uint16 { return q.size }

// Addrs returns the guest-physical addresses of the descriptor table, the
// available ring and the used ring.
func (q *DriverQueue) Addrs() (desc, avail, used uint64) {
	return q.descGPA, q.availGPA, q.usedGPA
}

// UserAddrs returns Addrs as front-end virtual addresses, as
// SET_VRING_ADDR carries them.
func (q *DriverQueue) UserAddrs() (desc, avail, used uint64) {
	return q.mem.UserAddr(q.descGPA), q.mem.UserAddr(q.availGPA), q.mem.UserAddr(q.usedGPA)
}

// Vring describes the queue for the front-end's handshake, with the given
// kick and call eventfds (still the caller's).
func (q *DriverQueue) Vring(kick, call int) VringSetup {
	d, a, u := q.UserAddrs()
	return VringSetup{Size: q.size, Desc: d, Avail: a, Used: u, Kick: kick, Call: call}
}

// FreeDescs returns the number of free descriptors.
func (q *DriverQueue) FreeDescs() int { return len(q.free) }

// AvailIdx returns the avail idx the next Publish writes.
func (q *DriverQueue) AvailIdx() uint16 { return q.availIdx }

// AddChain makes a chain available (visible to the device at the next
// Publish): one device-readable buffer per element of out, holding a copy
// of it, then one device-writable buffer per element of in, of that many
// bytes. It returns the chain's head. With Indirect configured, a chain of
// more than one buffer goes in an indirect table.
func (q *DriverQueue) AddChain(out [][]byte, in []int) (uint16, error) {
	nbufs := len(out) + len(in)
	if nbufs == 0 {
		return 0, errors.New("vmm: add chain: no buffers")
	}
	for _, b := range out {
		if uint64(len(b)) > q.buf {
			return 0, fmt.Errorf("vmm: add chain: %d-byte buffer exceeds %d", len(b), q.buf)
		}
	}
	for _, n := range in {
		if n < 0 || uint64(n) > q.buf {
			return 0, fmt.Errorf("vmm: add chain: %d-byte buffer exceeds %d", n, q.buf)
		}
	}
	if q.cfg.Indirect && nbufs > 1 {
		return q.addIndirect(out, in)
	}
	if len(q.free) < nbufs {
		return 0, ErrRingFull
	}
	var c chain
	for range nbufs {
		i := q.free[len(q.free)-1]
		q.free = q.free[:len(q.free)-1]
		c.main = append(c.main, i)
		c.descs = append(c.descs, q.descGPA+16*uint64(i))
	}
	q.fill(&c, c.descs, out, in, func(k int) uint64 { return q.bufGPA + uint64(c.main[k])*q.buf },
		func(k int) uint16 { return c.main[k] })
	return q.push(c), nil
}

// addIndirect makes a chain whose buffers are in head's indirect table.
func (q *DriverQueue) addIndirect(out [][]byte, in []int) (uint16, error) {
	nbufs := len(out) + len(in)
	if nbufs > MaxIndirect {
		return 0, fmt.Errorf("vmm: add chain: %d buffers exceed the indirect table (%d)", nbufs, MaxIndirect)
	}
	if len(q.free) == 0 {
		return 0, ErrRingFull
	}
	h := q.free[len(q.free)-1]
	q.free = q.free[:len(q.free)-1]
	table := q.indGPA + uint64(h)*MaxIndirect*16
	c := chain{main: []uint16{h}, descs: []uint64{q.descGPA + 16*uint64(h)}}
	entries := make([]uint64, nbufs)
	for j := range entries {
		entries[j] = table + 16*uint64(j)
	}
	c.descs = append(c.descs, entries...)
	q.putDesc(c.descs[0], Desc{Addr: table, Len: uint32(16 * nbufs), Flags: DescFIndirect})
	base := (uint64(h) * MaxIndirect)
	q.fill(&c, entries, out, in, func(j int) uint64 { return q.indBufGPA + (base+uint64(j))*q.buf },
		func(j int) uint16 { return uint16(j) })
	return q.push(c), nil
}

// fill writes the buffer descriptors at descs, chained by next(k), with
// buffers at bufAt(k), and records the writable ones in c.
func (q *DriverQueue) fill(c *chain, descs []uint64, out [][]byte, in []int, bufAt func(int) uint64, index func(int) uint16) {
	for k := range descs {
		d := Desc{Addr: bufAt(k)}
		if k < len(out) {
			copy(q.mem.Bytes(d.Addr, len(out[k])), out[k])
			d.Len = uint32(len(out[k]))
		} else {
			d.Len = uint32(in[k-len(out)])
			d.Flags = DescFWrite
			c.writable = append(c.writable, span{d.Addr, uint64(d.Len)})
		}
		if k+1 < len(descs) {
			d.Flags |= DescFNext
			d.Next = index(k + 1)
		}
		q.putDesc(descs[k], d)
	}
}

// push puts c's head in the next avail ring slot, without publishing.
func (q *DriverQueue) push(c chain) uint16 {
	c.live = true
	h := c.main[0]
	q.inflight[h] = c
	q.pushRaw(h)
	return h
}

// pushRaw writes head into the next avail ring slot.
func (q *DriverQueue) pushRaw(head uint16) {
	off := q.availOff + 4 + 2*int(q.availIdx&(q.size-1))
	binary.LittleEndian.PutUint16(q.avail[off:], head)
	q.availIdx++
}

// AddTX makes a transmit chain available: the encoded header in one
// buffer, then the frame in as many buffers as it needs.
func (q *DriverQueue) AddTX(hdr NetHeader, frame []byte) (uint16, error) {
	out := [][]byte{hdr.Append(nil)}
	for len(frame) > 0 {
		n := min(uint64(len(frame)), q.buf)
		out = append(out, frame[:n])
		frame = frame[n:]
	}
	return q.AddChain(out, nil)
}

// AddRX makes a receive buffer of n bytes available.
func (q *DriverQueue) AddRX(n int) (uint16, error) {
	return q.AddChain(nil, []int{n})
}

// Publish makes the added chains visible to the device by storing the
// avail idx, then reports whether the device wants a kick: with EVENT_IDX
// when the idx passed the device's avail_event, without it unless the
// device set VRING_USED_F_NO_NOTIFY.
func (q *DriverQueue) Publish() (kick bool) {
	old, cur := q.kickedIdx, q.availIdx
	q.kickedIdx = cur
	ringword.Store16(q.avail, q.availOff+2, cur)
	if old == cur {
		return false
	}
	if q.cfg.EventIdx {
		event := ringword.Load16(q.used, 4+8*int(q.size))
		return cur-event-1 < cur-old
	}
	return ringword.Load16(q.used, 0)&UsedFNoNotify == 0
}

// putDesc writes d at guest address gpa.
func (q *DriverQueue) putDesc(gpa uint64, d Desc) {
	b := q.mem.Bytes(gpa, 16)
	binary.LittleEndian.PutUint64(b[0:], d.Addr)
	binary.LittleEndian.PutUint32(b[8:], d.Len)
	binary.LittleEndian.PutUint16(b[12:], d.Flags)
	binary.LittleEndian.PutUint16(b[14:], d.Next)
}

// getDesc reads the descriptor at guest address gpa.
func (q *DriverQueue) getDesc(gpa uint64) Desc {
	b := q.mem.Bytes(gpa, 16)
	return Desc{
		Addr:  binary.LittleEndian.Uint64(b[0:]),
		Len:   binary.LittleEndian.Uint32(b[8:]),
		Flags: binary.LittleEndian.Uint16(b[12:]),
		Next:  binary.LittleEndian.Uint16(b[14:]),
	}
}
