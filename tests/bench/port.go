package bench

import (
	"fmt"

	"mvirt-net/reactor/vhostuser"
	"mvirt-net/tests/vmm"
)

// The virtio features every port needs, and the one it takes if offered.
const (
	requiredFeatures = vhostuser.FeatureVersion1 | vhostuser.FeatureMrgRxbuf | vhostuser.FeatureEventIdx
	optionalFeatures = vhostuser.FeatureProtocolFeatures
)

// portConfig shapes a port.
type portConfig struct {
	// QueueSize of both rings, a power of 2.
	QueueSize uint16
	// RxBufSize is the size of each receive buffer (mergeable buffers let
	// a larger frame span several).
	RxBufSize int
	// TxBufSize is the size of each transmit buffer: header and frame.
	TxBufSize int
}

// port is one simulated virtio-net device: its guest memory, its receive
// and transmit rings and, once dialed, the vhost-user connection that
// hands them to a back-end. A port belongs to one goroutine at a time.
type port struct {
	mem    *vmm.GuestMemory
	front  *vmm.Frontend
	rx, tx *ring
}

// newPort allocates guest memory and both rings, without a back-end.
func newPort(cfg portConfig) (*port, error) {
	size := ringMemory(cfg.QueueSize, cfg.RxBufSize) + ringMemory(cfg.QueueSize, cfg.TxBufSize)
	mem, err := vmm.NewGuestMemory(size)
	if err != nil {
		return nil, fmt.Errorf("bench: port memory: %w", err)
	}
	p := &port{mem: mem}
	if p.rx, err = newRing(mem, cfg.QueueSize, cfg.RxBufSize, true); err != nil {
		p.close()
		return nil, err
	}
	if p.tx, err = newRing(mem, cfg.QueueSize, cfg.TxBufSize, false); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// dialPort makes a port and connects it to the vhost-user back-end at
// path as QEMU would: features, memory table, both rings, all receive
// buffers posted.
func dialPort(path string, cfg portConfig) (*port, error) {
	p, err := newPort(cfg)
	if err != nil {
		return nil, err
	}
	if err := p.connect(path); err != nil {
		p.close()
		return nil, fmt.Errorf("bench: connect to %s: %w", path, err)
	}
	return p, nil
}

func (p *port) connect(path string) error {
	front, err := vmm.Dial(path)
	if err != nil {
		return err
	}
	p.front = front
	offered, err := front.GetFeatures()
	if err != nil {
		return err
	}
	if missing := requiredFeatures &^ offered; missing != 0 {
		return fmt.Errorf("back-end lacks virtio features %#x (offers %#x)", missing, offered)
	}
	features := requiredFeatures | offered&optionalFeatures
	var proto uint64
	if features&vhostuser.FeatureProtocolFeatures != 0 {
		if proto, err = front.GetProtocolFeatures(); err != nil {
			return err
		}
		proto &= vhostuser.SupportedProtocolFeatures
	}
	p.rx.postAll()
	return front.Handshake(vmm.HandshakeConfig{
		Features: features, ProtocolFeatures: proto,
		Regions: []vmm.MemRegion{p.mem.Region()},
		Vrings:  []vmm.VringSetup{p.rx.vring(), p.tx.vring()},
	})
}

// close disconnects and frees everything.
func (p *port) close() {
	if p.front != nil {
		_ = p.front.Close()
	}
	for _, r := range []*ring{p.rx, p.tx} {
		if r != nil {
			r.close()
		}
	}
	_ = p.mem.Close()
}
