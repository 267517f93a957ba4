package vmm

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/vhostuser"
)

// GuestConfig shapes a simulated VM NIC.
type GuestConfig struct {
	// Features to acknowledge; 0 means everything the backend offers.
	Features uint64
	// QueueSize of both queues; 0 means 256.
	QueueSize uint16
	// RxBufSize is the size of each RX buffer; 0 means DefaultBufSize.
	RxBufSize int
	// RxBuffers is how many RX buffers are kept posted; 0 fills the queue.
	RxBuffers int
	// TxBufSize is the size of each TX buffer; 0 means DefaultBufSize. A
	// frame up to this size goes in one buffer (after the header's).
	TxBufSize int
}

// Guest is a simulated VM with one virtio-net device connected to a
// vhost-user socket: the memfd guest memory, the frontend connection, and
// the driver's side of the RX and TX queues with their eventfds. A Guest
// belongs to one goroutine.
type Guest struct {
	Mem       *GuestMemory
	Front     *Frontend
	RX, TX    *DriverQueue
	Features  uint64
	mergeable bool
	rxBufSize int
	rxKick    int
	rxCall    int
	txKick    int
	txCall    int
}

// Connect dials path and brings the device up like QEMU does: features,
// memory table, both vrings, RX buffers posted.
func Connect(path string, cfg GuestConfig) (*Guest, error) {
	if cfg.QueueSize == 0 {
		cfg.QueueSize = 256
	}
	if cfg.RxBufSize == 0 {
		cfg.RxBufSize = DefaultBufSize
	}
	if cfg.RxBuffers == 0 || cfg.RxBuffers > int(cfg.QueueSize) {
		cfg.RxBuffers = int(cfg.QueueSize)
	}
	g := &Guest{rxKick: -1, rxCall: -1, txKick: -1, txCall: -1, rxBufSize: cfg.RxBufSize}
	if err := g.connect(path, cfg); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

func (g *Guest) connect(path string, cfg GuestConfig) error {
	front, err := Dial(path)
	if err != nil {
		return err
	}
	g.Front = front
	offered, err := front.GetFeatures()
	if err != nil {
		return err
	}
	g.Features = offered
	if cfg.Features != 0 {
		if cfg.Features&^offered != 0 {
			return fmt.Errorf("features %#x not offered (offered %#x)", cfg.Features, offered)
		}
		g.Features = cfg.Features
	}
	eventIdx := g.Features&vhostuser.FeatureEventIdx != 0
	g.mergeable = g.Features&vhostuser.FeatureMrgRxbuf != 0
	qcfg := DriverQueueConfig{Size: cfg.QueueSize, EventIdx: eventIdx}
	rxcfg, txcfg := qcfg, qcfg
	rxcfg.BufSize, txcfg.BufSize = cfg.RxBufSize, cfg.TxBufSize
	mem := qcfg.MemoryNeeded() + rxcfg.MemoryNeeded() + txcfg.MemoryNeeded() + 1<<20
	if g.Mem, err = NewGuestMemory(int(mem)); err != nil {
		return err
	}
	if g.RX, err = NewDriverQueue(g.Mem, rxcfg); err != nil {
		return err
	}
	if g.TX, err = NewDriverQueue(g.Mem, txcfg); err != nil {
		return err
	}
	for _, fd := range []*int{&g.rxKick, &g.rxCall, &g.txKick, &g.txCall} {
		if *fd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
			return fmt.Errorf("eventfd: %w", err)
		}
	}
	var proto uint64
	if g.Features&vhostuser.FeatureProtocolFeatures != 0 {
		if proto, err = front.GetProtocolFeatures(); err != nil {
			return err
		}
		proto &= vhostuser.SupportedProtocolFeatures
	}
	for range cfg.RxBuffers {
		if _, err := g.RX.AddRX(cfg.RxBufSize); err != nil {
			return err
		}
	}
	g.RX.Publish()
	return front.Handshake(HandshakeConfig{
		Features: g.Features, ProtocolFeatures: proto,
		Regions: []MemRegion{g.Mem.Region()},
		Vrings:  []VringSetup{g.RX.Vring(g.rxKick, g.rxCall), g.TX.Vring(g.txKick, g.txCall)},
	})
}

// Close disconnects and frees everything.
func (g *Guest) Close() {
	if g.Front != nil {
		_ = g.Front.Close()
	}
	for _, fd := range []int{g.rxKick, g.rxCall, g.txKick, g.txCall} {
		if fd >= 0 {
			_ = unix.Close(fd)
		}
	}
	if g.Mem != nil {
		_ = g.Mem.Close()
	}
}

// Send transmits one frame (without virtio header), kicking the device if
// it asks for it, and reclaims the TX chains the device has used.
func (g *Guest) Send(frame []byte) error {
	if err := g.reclaimTX(); err != nil {
		return err
	}
	if _, err := g.TX.AddTX(NetHeader{NumBuffers: 0}, frame); err != nil {
		return err
	}
	if g.TX.Publish() {
		return kick(g.txKick)
	}
	return nil
}

// SendBatch transmits several frames with one publish and at most one kick.
func (g *Guest) SendBatch(frames [][]byte) error {
	if err := g.reclaimTX(); err != nil {
		return err
	}
	for _, f := range frames {
		if _, err := g.TX.AddTX(NetHeader{}, f); err != nil {
			return err
		}
	}
	if g.TX.Publish() {
		return kick(g.txKick)
	}
	return nil
}

func (g *Guest) reclaimTX() error {
	for {
		_, ok, err := g.TX.GetUsed()
		if err != nil || !ok {
			return err
		}
	}
}

// ErrTimeout is returned by Recv when no frame arrived in time.
var ErrTimeout = errors.New("no frame received in time")

// Recv waits up to timeout for the next frame the device delivered and
// reposts the RX buffers it used.
func (g *Guest) Recv(timeout time.Duration) ([]byte, error) {
	_, frame, err := g.RecvWithHeader(timeout)
	return frame, err
}

// repostRX gives the device fresh RX buffers for the ones it used.
func (g *Guest) repostRX() error {
	for g.RX.FreeDescs() > 0 {
		if _, err := g.RX.AddRX(g.rxBufSize); err != nil {
			return err
		}
	}
	if g.RX.Publish() {
		return kick(g.rxKick)
	}
	return nil
}

func kick(fd int) error {
	var one = [8]byte{1}
	if _, err := unix.Write(fd, one[:]); err != nil {
		return fmt.Errorf("kick: %w", err)
	}
	return nil
}

// waitEventfd waits until fd is readable or timeout passes, and resets it.
func waitEventfd(fd int, timeout time.Duration) error {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if _, err := unix.Poll(fds, int(timeout.Milliseconds())+1); err != nil && !errors.Is(err, unix.EINTR) {
		return fmt.Errorf("poll call eventfd: %w", err)
	}
	var buf [8]byte
	_, _ = unix.Read(fd, buf[:])
	return nil
}

// KickTX notifies the device of the TX queue, whether it asked or not.
func (g *Guest) KickTX() error { return kick(g.txKick) }

// SendPieces transmits one frame with the virtio-net header hdr as Linux
// lays out a frame with fragments (a TSO frame): the header and the first
// piece in one TX buffer, then one buffer per further piece, each at most
// the TX buffer size. It kicks the device if it asks for it.
func (g *Guest) SendPieces(hdr NetHeader, pieces [][]byte) error {
	if err := g.reclaimTX(); err != nil {
		return err
	}
	out := make([][]byte, len(pieces))
	copy(out, pieces)
	out[0] = append(hdr.Append(nil), pieces[0]...)
	if _, err := g.TX.AddChain(out, nil); err != nil {
		return err
	}
	if g.TX.Publish() {
		return kick(g.txKick)
	}
	return nil
}

// RecvWithHeader is Recv that also returns the frame's virtio-net header
// (with num_buffers as the device set it).
func (g *Guest) RecvWithHeader(timeout time.Duration) (NetHeader, []byte, error) {
	deadline := time.Now().Add(timeout)
	for {
		h, frame, ok, err := g.RX.RecvFrame(g.mergeable)
		if err != nil {
			return NetHeader{}, nil, err
		}
		if ok {
			return h, frame, g.repostRX()
		}
		left := time.Until(deadline)
		if left <= 0 {
			return NetHeader{}, nil, ErrTimeout
		}
		if err := waitEventfd(g.rxCall, min(left, 50*time.Millisecond)); err != nil {
			return NetHeader{}, nil, err
		}
	}
}
