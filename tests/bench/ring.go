package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"mvirt-net/tests/vmm"
)

// Descriptor flag VIRTQ_DESC_F_WRITE: the device writes the buffer.
const descFWrite = 2

// netHdrLen is the size of struct virtio_net_hdr_v1 before every frame.
const netHdrLen = 12

// ring is the driver side of one split virtqueue whose descriptor i always
// points at buffer i, a fixed slice of guest memory. The harness never
// builds chains: sending or receiving is putting a head on the available
// ring, and recycling is moving heads from the used ring back to it, so
// the driver does a few loads and stores per packet and no copy.
//
// Layout in guest memory: the descriptor table, then the available ring
// (flags, idx, ring[size], used_event and 2 bytes of padding), then the
// used ring (flags, idx, ring[size], avail_event and padding), each
// 4-aligned, so that flags+idx, used_event and avail_event each fill an
// aligned word that only one side writes.
//
// A ring belongs to one goroutine, which plays the driver; the buffers
// are the device's from post until the head comes back through next. The
// ring owns its kick and call eventfds; its memory belongs to the
// GuestMemory it was carved from.
type ring struct {
	mem     *vmm.GuestMemory
	size    uint16
	bufSize int
	// slots chains of stride descriptors each are what the driver
	// posts, the chain of slot i starting at descriptor i*stride: size
	// chains of one descriptor, but for a TSO ring (newTSORing).
	slots, stride uint16

	descGPA, availGPA, usedGPA, bufGPA uint64
	desc, avail, used, bufs            []byte

	availIdx  uint16 // idx after the heads posted so far
	published uint16 // idx the device has been shown
	lastUsed  uint16 // next used element to read

	kick, call int
}

// ringMemory returns the guest memory a ring of size entries with buffers
// of bufSize bytes needs, alignment included.
func ringMemory(size uint16, bufSize int) int {
	n := int(size)
	return 16*n + (8 + 2*n) + (8 + 8*n) + n*bufSize + 3*64
}

// newRing carves a ring out of mem. Descriptors of a receive ring
// (deviceWrites) are device-writable and span their whole buffer; those of
// a transmit ring get their length from setLen. Nothing is posted yet.
func newRing(mem *vmm.GuestMemory, size uint16, bufSize int, deviceWrites bool) (*ring, error) {
	if size < 2 || size&(size-1) != 0 {
		return nil, fmt.Errorf("bench: ring size %d is not a power of 2", size)
	}
	r, err := newRingBuffers(mem, size, size, 1, bufSize, 64)
	if err != nil {
		return nil, err
	}
	for i := range size {
		d := r.desc[16*int(i):]
		binary.LittleEndian.PutUint64(d, r.bufGPA+uint64(i)*uint64(bufSize))
		binary.LittleEndian.PutUint32(d[8:], uint32(bufSize))
		if deviceWrites {
			binary.LittleEndian.PutUint16(d[12:], descFWrite)
		}
	}
	return r, nil
}

// newRingBuffers carves the rings and slots buffers of bufSize bytes,
// the first aligned to align, out of mem and makes the eventfds; the
// caller writes the descriptors.
func newRingBuffers(mem *vmm.GuestMemory, size, slots, stride uint16, bufSize int, align uint64) (*ring, error) {
	n := uint64(size)
	r := &ring{mem: mem, size: size, bufSize: bufSize, slots: slots, stride: stride, kick: -1, call: -1}
	r.descGPA = mem.Alloc(16*n, 64)
	r.availGPA = mem.Alloc(8+2*n, 64)
	r.usedGPA = mem.Alloc(8+8*n, 64)
	r.bufGPA = mem.Alloc(uint64(slots)*uint64(bufSize), align)
	r.desc = mem.Bytes(r.descGPA, int(16*n))
	r.avail = mem.Bytes(r.availGPA, int(8+2*n))
	r.used = mem.Bytes(r.usedGPA, int(8+8*n))
	r.bufs = mem.Bytes(r.bufGPA, int(slots)*bufSize)
	var err error
	if r.kick, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return nil, fmt.Errorf("bench: kick eventfd: %w", err)
	}
	if r.call, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		_ = unix.Close(r.kick)
		return nil, fmt.Errorf("bench: call eventfd: %w", err)
	}
	r.interruptsOff()
	return r, nil
}

// close closes the eventfds.
func (r *ring) close() {
	_ = unix.Close(r.kick)
	_ = unix.Close(r.call)
}

// vring describes the ring for the vhost-user handshake.
func (r *ring) vring() vmm.VringSetup {
	return vmm.VringSetup{
		Size: r.size, Desc: r.mem.UserAddr(r.descGPA), Avail: r.mem.UserAddr(r.availGPA),
		Used: r.mem.UserAddr(r.usedGPA), Kick: r.kick, Call: r.call,
	}
}

// buf returns buffer head.
func (r *ring) buf(head uint16) []byte {
	off := int(head) * r.bufSize
	return r.bufs[off : off+r.bufSize : off+r.bufSize]
}

// setLen sets the length of descriptor head: what the device reads.
func (r *ring) setLen(head uint16, n int) {
	binary.LittleEndian.PutUint32(r.desc[16*int(head)+8:], uint32(n))
}

// post puts head on the available ring; publish shows it to the device.
func (r *ring) post(head uint16) {
	binary.LittleEndian.PutUint16(r.avail[4+2*int(r.availIdx&(r.size-1)):], head)
	r.availIdx++
}

// postAll posts every buffer and stores the idx without a kick: for a
// receive ring before the device starts.
func (r *ring) postAll() {
	for i := range r.size {
		r.post(i)
	}
	r.published = r.availIdx
	storeWord(r.avail, 0, 0, r.availIdx)
}

// publish stores the available idx and kicks the device if it asked for
// it (VIRTIO_RING_F_EVENT_IDX: the idx passed its avail_event).
func (r *ring) publish() error {
	old, cur := r.published, r.availIdx
	if old == cur {
		return nil
	}
	r.published = cur
	storeWord(r.avail, 0, 0, cur)
	event := loadLow16(r.used, 4+8*int(r.size))
	if cur-event-1 < cur-old {
		return kick(r.kick)
	}
	return nil
}

// pending returns how many used elements wait to be read.
func (r *ring) pending() uint16 { return loadHigh16(r.used, 0) - r.lastUsed }

// next reads the next used element; call it only while pending is not 0.
func (r *ring) next() (head uint16, n uint32) {
	e := r.used[4+8*int(r.lastUsed&(r.size-1)):]
	r.lastUsed++
	return uint16(binary.LittleEndian.Uint32(e)), binary.LittleEndian.Uint32(e[4:])
}

// interruptAfter asks the device to signal the call eventfd once n more
// used elements (counted from lastUsed) are there, and reports whether
// they already are: then no signal comes.
func (r *ring) interruptAfter(n uint16) bool {
	storeWord(r.avail, 4+2*int(r.size), r.lastUsed+n-1, 0)
	return r.pending() >= n
}

// interruptsOff moves used_event just behind the used elements read, the
// index the device reaches last, as Linux does to suppress interrupts.
func (r *ring) interruptsOff() {
	storeWord(r.avail, 4+2*int(r.size), r.lastUsed-1, 0)
}

// wait blocks until the device signals the call eventfd or timeout
// passes, and resets the eventfd.
func (r *ring) wait(timeout time.Duration) error {
	fds := []unix.PollFd{{Fd: int32(r.call), Events: unix.POLLIN}}
	if _, err := unix.Poll(fds, int(timeout.Milliseconds())); err != nil && !errors.Is(err, unix.EINTR) {
		return fmt.Errorf("bench: poll call eventfd: %w", err)
	}
	var b [8]byte
	_, _ = unix.Read(r.call, b[:])
	return nil
}

// state describes the ring's indexes, for a run that stalled: the
// available idx published, the used idx, the used elements read, and the
// avail_event and used_event the two sides asked for.
func (r *ring) state() string {
	return fmt.Sprintf("avail=%d used=%d read=%d avail_event=%d used_event=%d",
		r.published, loadHigh16(r.used, 0), r.lastUsed, loadLow16(r.used, 4+8*int(r.size)), loadLow16(r.avail, 4+2*int(r.size)))
}

// kick notifies the device through its kick eventfd.
func kick(fd int) error {
	one := [8]byte{1}
	if _, err := unix.Write(fd, one[:]); err != nil && !errors.Is(err, unix.EAGAIN) {
		return fmt.Errorf("bench: kick: %w", err)
	}
	return nil
}
