// Package tun opens the uplink's TUN device: a layer-3 interface of the
// host's kernel whose every packet carries a virtio_net_hdr in front
// (IFF_TUN | IFF_NO_PI | IFF_VNET_HDR).
//
// Unless EnableOffloads turns checksum and segmentation offload on
// (TUNSETOFFLOAD), the kernel hands over only complete packets with their
// checksums filled in, and expects the same.
package tun

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/offload"
)

// HdrLen is the length of the virtio_net_hdr in front of every packet
// (struct virtio_net_hdr, without num_buffers).
const HdrLen = offload.LegacyHeaderLen

// FlagNeedsCsum: the packet's transport checksum is left to the reader
// (VIRTIO_NET_HDR_F_NEEDS_CSUM).
const FlagNeedsCsum = offload.FlagNeedsCsum

// Path is the clone device.
const Path = "/dev/net/tun"

// Device is an open TUN interface. The kernel removes the interface when
// the last descriptor to it closes.
type Device struct {
	fd   int
	name string
	// flags are the TUNSETOFFLOAD flags set (EnableOffloads).
	flags uint
}

// ErrUnavailable wraps every reason the device cannot be had: no
// /dev/net/tun, no CAP_NET_ADMIN, an interface of that name that is not
// a TUN.
var ErrUnavailable = errors.New("uplink unavailable")

// Open creates the TUN interface name (or attaches to it, if a persistent
// one exists). The descriptor is blocking: the uplink's io_uring waits on
// it without a thread of its own.
func Open(name string) (*Device, error) {
	fd, err := unix.Open(Path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %w", ErrUnavailable, Path, err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("%w: interface name %q: %w", ErrUnavailable, name, err)
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		_ = unix.Close(fd)
		if errors.Is(err, unix.EPERM) {
			return nil, fmt.Errorf("%w: create %s: %w (needs CAP_NET_ADMIN)", ErrUnavailable, name, err)
		}
		return nil, fmt.Errorf("%w: create %s: %w", ErrUnavailable, name, err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TUNSETVNETHDRSZ, HdrLen); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("%w: %s virtio-net header size: %w", ErrUnavailable, name, err)
	}
	return &Device{fd: fd, name: ifr.Name()}, nil
}

// Fd is the device's descriptor, for the uplink's io_uring.
func (d *Device) Fd() int { return d.fd }

// Name is the interface's name.
func (d *Device) Name() string { return d.name }

// Close closes the descriptor; the kernel removes the interface with it.
func (d *Device) Close() error {
	if err := unix.Close(d.fd); err != nil {
		return fmt.Errorf("close tun %s: %w", d.name, err)
	}
	return nil
}

// Header is the virtio_net_hdr in front of every packet, in the data
// plane's one codec (reactor/offload).
type Header = offload.Header

// ParseHeader reads the header in front of a packet read from the device.
func ParseHeader(b []byte) Header {
	return offload.Decode(b[:HdrLen])
}

// PutPlainHeader writes the header of a complete packet (checksums filled
// in, no segmentation) into b[:HdrLen].
func PutPlainHeader(b []byte) {
	clear(b[:HdrLen])
}
