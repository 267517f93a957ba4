package reactor

import (
	"errors"
	"fmt"
	"net/netip"

	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/offload"
	"mvirt-net/reactor/route"
	"mvirt-net/reactor/tun"
)

// Uplink is the data plane's port to the host's kernel: a TUN device
// (layer 3, a virtio_net_hdr per packet) that public networks send their
// outside destinations to, and whose packets are routed to the ports of
// public networks. Like a NIC's Port it outlives the reactors that serve
// it: the device stays open, so the kernel's routes to it stay, and its
// counters keep counting. One Dataplane has at most one.
type Uplink struct {
	dp    *Dataplane
	dev   *tun.Device
	mtu   int
	dest  *Dest
	stats Stats
	// off is what the TUN's offloads allow (tun.Device.Offloads): the
	// kernel's frames with offload headers it accepts, and what it may
	// be handed whole.
	off offload.Features
	// routes joins every public network: their ports' addresses and
	// prefixes, and their subnets (to answer host unreachable). nets
	// maps the same subnets and prefixes to their network, for the
	// source of ICMP errors.
	routes Routes
	nets   Routes
	// closed is set by the first Close; d.mu guards it.
	closed bool
}

// UplinkSpec is the uplink's device.
type UplinkSpec struct {
	// Name is the TUN interface's name.
	Name string
	// MTU is the device's IP MTU: the largest packet sent to the kernel.
	MTU int
}

// DefaultUplinkName is the TUN interface's name unless configured.
const DefaultUplinkName = "mvirt0"

// ErrUplinkUnavailable wraps every reason the uplink cannot be opened.
var ErrUplinkUnavailable = tun.ErrUnavailable

// uplinkMAC stands for the kernel as the source of frames from the uplink
// (the TUN has no link layer; routing rewrites it anyway).
var uplinkMAC = [6]byte{0x02, 0, 0, 0, 0, 0x02}

// OpenUplink opens the uplink's TUN device, brings it up with its MTU,
// and routes every public network's outside destinations to it. The
// device exists in the network namespace of the calling thread.
func (d *Dataplane) OpenUplink(spec UplinkSpec) (*Uplink, error) {
	if spec.MTU < 1280 || spec.MTU > inboxMaxFrame-14 {
		return nil, fmt.Errorf("uplink mtu %d out of range 1280-%d", spec.MTU, inboxMaxFrame-14)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.uplink != nil {
		return nil, errors.New("the uplink is open already")
	}
	dev, err := tun.Open(spec.Name)
	if err != nil {
		return nil, err
	}
	var off offload.Features
	if d.cfg.Offloads {
		flags, err := dev.EnableOffloads()
		if err != nil {
			_ = dev.Close()
			return nil, fmt.Errorf("%w: %w", ErrUplinkUnavailable, err)
		}
		off = dev.Offloads()
		d.cfg.Log.Info("uplink offloads", "uplink", dev.Name(), "tun", tun.FlagNames(flags))
	}
	if err := tun.LinkUp(dev.Name(), spec.MTU); err != nil {
		_ = dev.Close()
		return nil, err
	}
	ib, err := inbox.New(inbox.Config{Slots: inboxSlots, MaxFrame: inboxMaxFrame})
	if err != nil {
		_ = dev.Close()
		return nil, fmt.Errorf("uplink inbox: %w", err)
	}
	u := &Uplink{dp: d, dev: dev, mtu: spec.MTU, off: off, dest: &Dest{Inbox: ib, MAC: uplinkMAC, MTU: spec.MTU}}
	d.uplink = u
	if err := d.rebuildAll(); err != nil {
		d.cfg.Log.Error("route tables with the uplink", "err", err)
	}
	return u, nil
}

// Name is the uplink's interface name.
func (u *Uplink) Name() string { return u.dev.Name() }

// Offloads is what the uplink's TUN takes and sends with offload headers.
func (u *Uplink) Offloads() offload.Features { return u.off }

// MTU is the uplink's IP MTU.
func (u *Uplink) MTU() int { return u.mtu }

// Stats are the uplink's counters: TX counts packets read from the kernel,
// RX packets written to it.
func (u *Uplink) Stats() *Stats { return &u.stats }

// Close takes the uplink out of every route table, then closes its inbox
// and device (the kernel removes the interface and its routes). Its
// reactor must have stopped. Closing it again does nothing.
func (u *Uplink) Close() error {
	d := u.dp
	d.mu.Lock()
	defer d.mu.Unlock()
	if u.closed {
		return nil
	}
	u.closed = true
	if d.uplink == u {
		d.uplink = nil
		if err := d.rebuildAll(); err != nil {
			d.cfg.Log.Error("route tables without the uplink", "err", err)
		}
	}
	return errors.Join(u.dest.Inbox.Close(), u.dev.Close())
}

// buildUplink publishes the uplink's table: every public network's ports
// and subnets. Overlaps between public networks are refused by the
// control plane; what still collides is left out and reported. d.mu is
// held.
func (d *Dataplane) buildUplink() error {
	u := d.uplink
	if u == nil {
		return nil
	}
	b, nb := route.NewBuilder[*Dest](), route.NewBuilder[*Dest]()
	var errs []error
	for _, t := range d.tables {
		if !t.public {
			continue
		}
		net := &Dest{}
		for _, p := range t.subnets {
			if p.Addr().Is4() {
				net.Src4 = p.Masked().Addr()
			} else {
				net.Src6 = p.Masked().Addr()
			}
		}
		for _, p := range t.subnets {
			if err := b.Add(p, net); err != nil {
				errs = append(errs, err)
			}
			_ = nb.Add(p, net)
		}
		for p, port := range t.routes {
			if err := b.Add(p, port.destFor(t.mtu)); err != nil {
				errs = append(errs, fmt.Errorf("uplink: port %s: %w", port.id, err))
			}
			if p.Bits() < p.Addr().BitLen() {
				_ = nb.Add(p, net)
			}
		}
	}
	u.routes.Store(b.Build())
	u.nets.Store(nb.Build())
	return errors.Join(errs...)
}

// PublicPrefixes lists what the kernel must route to the uplink: every
// public network's subnets and the prefixes routed to its ports outside
// them.
func (d *Dataplane) PublicPrefixes() []netip.Prefix {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []netip.Prefix
	for _, t := range d.tables {
		if !t.public {
			continue
		}
		out = append(out, t.subnets...)
	routes:
		for p := range t.routes {
			for _, s := range t.subnets {
				if s.Overlaps(p) {
					continue routes
				}
			}
			out = append(out, p)
		}
	}
	return out
}
