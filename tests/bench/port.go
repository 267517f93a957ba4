package bench

import (
	"errors"
	"fmt"

	"mvirt-net/reactor/vhostuser"
	"mvirt-net/tests/vmm"
)

// The virtio features every port needs, and the one it takes if offered.
const (
	requiredFeatures = vhostuser.FeatureVersion1 | vhostuser.FeatureMrgRxbuf | vhostuser.FeatureEventIdx
	optionalFeatures = vhostuser.FeatureProtocolFeatures
)

// errFeatures is the error of a port whose back-end does not offer the
// virtio features it needs.
var errFeatures = errors.New("back-end lacks virtio features")

// portConfig shapes a port.
type portConfig struct {
	// QueueSize of both rings, a power of 2.
	QueueSize uint16
	// RxBufSize is the size of each receive buffer (mergeable buffers let
	// a larger frame span several).
	RxBufSize int
	// TxBufSize is the size of each transmit buffer: header and frame.
	TxBufSize int
	// Want are virtio features the port takes if the back-end offers
	// them, Need those it cannot do without (both beyond the ones every
	// port needs).
	Want, Need uint64
	// TSO makes the transmit ring one of TCP super-frames laid out as
	// Linux sends them (see newTSORing); TxBufSize is then unused.
	TSO bool
}

// port is one simulated virtio-net device: its guest memory, its receive
// and transmit rings and, once dialed, the vhost-user connection that
// hands them to a back-end. A port belongs to one goroutine at a time.
type port struct {
	cfg      portConfig
	mem      *vmm.GuestMemory
	front    *vmm.Frontend
	rx, tx   *ring
	features uint64 // the virtio features negotiated, once dialed
}

// newPort allocates guest memory and both rings, without a back-end.
func newPort(cfg portConfig) (*port, error) {
	tx := ringMemory(cfg.QueueSize, cfg.TxBufSize)
	if cfg.TSO {
		tx = tsoRingMemory(cfg.QueueSize)
	}
	mem, err := vmm.NewGuestMemory(ringMemory(cfg.QueueSize, cfg.RxBufSize) + tx)
	if err != nil {
		return nil, fmt.Errorf("bench: port memory: %w", err)
	}
	p := &port{cfg: cfg, mem: mem}
	if p.rx, err = newRing(mem, cfg.QueueSize, cfg.RxBufSize, true); err != nil {
		p.close()
		return nil, err
	}
	if !cfg.TSO {
		if p.tx, err = newRing(mem, cfg.QueueSize, cfg.TxBufSize, false); err != nil {
			p.close()
			return nil, err
		}
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
	if missing := (requiredFeatures | p.cfg.Need) &^ offered; missing != 0 {
		return fmt.Errorf("%w %#x (offers %#x)", errFeatures, missing, offered)
	}
	features := requiredFeatures | p.cfg.Need | offered&(optionalFeatures|p.cfg.Want)
	p.features = features
	if p.cfg.TSO {
		// Linux puts a chain into an indirect table whenever the
		// feature is negotiated (virtqueue_add_split).
		if p.tx, err = newTSORing(p.mem, p.cfg.QueueSize, features&vhostuser.FeatureIndirectDesc != 0); err != nil {
			return err
		}
	}
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
