package tun

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/offload"
)

// TUNSETOFFLOAD flags (linux/if_tun.h): the offloads the reader of the
// device takes, and so the kernel may hand it.
const (
	FlagCsum   = 0x01 // TUN_F_CSUM: partial checksums
	FlagTSO4   = 0x02 // TUN_F_TSO4
	FlagTSO6   = 0x04 // TUN_F_TSO6
	FlagTSOECN = 0x08 // TUN_F_TSO_ECN
	FlagUSO4   = 0x20 // TUN_F_USO4
	FlagUSO6   = 0x40 // TUN_F_USO6
)

// offloadTCP is what the uplink asks for on every kernel; offloadUDP is
// added where the kernel knows it (6.2 and later).
const (
	offloadTCP = FlagCsum | FlagTSO4 | FlagTSO6 | FlagTSOECN
	offloadUDP = FlagUSO4 | FlagUSO6
)

// EnableOffloads turns on checksum and TCP segmentation offload, and UDP
// segmentation offload if the kernel accepts it (older kernels refuse
// the USO flags with EINVAL; the device then goes without them). It
// records and returns the flags set.
func (d *Device) EnableOffloads() (uint, error) {
	flags := uint(offloadTCP | offloadUDP)
	err := unix.IoctlSetInt(d.fd, unix.TUNSETOFFLOAD, int(flags))
	if errors.Is(err, unix.EINVAL) {
		flags = offloadTCP
		err = unix.IoctlSetInt(d.fd, unix.TUNSETOFFLOAD, int(flags))
	}
	if err != nil {
		return 0, fmt.Errorf("%s offloads: %w", d.name, err)
	}
	d.flags = flags
	return flags, nil
}

// Offloads is what the device's offload flags allow, in both directions:
// the kernel sends frames with partial checksums and GSO of these kinds
// (CSUM, HOST_*), and takes them (GUEST_CSUM, GUEST_*).
func (d *Device) Offloads() offload.Features {
	return featuresOf(d.flags)
}

// featuresOf is the offload feature set of TUNSETOFFLOAD flags.
func featuresOf(flags uint) offload.Features {
	if flags&FlagCsum == 0 {
		return 0
	}
	f := offload.Csum | offload.GuestCsum
	if flags&FlagTSO4 != 0 {
		f |= offload.HostTSO4 | offload.GuestTSO4
	}
	if flags&FlagTSO6 != 0 {
		f |= offload.HostTSO6 | offload.GuestTSO6
	}
	if flags&FlagTSOECN != 0 {
		f |= offload.HostECN | offload.GuestECN
	}
	if flags&FlagUSO4 != 0 && flags&FlagUSO6 != 0 {
		f |= offload.HostUSO
	}
	if flags&FlagUSO4 != 0 {
		f |= offload.GuestUSO4
	}
	if flags&FlagUSO6 != 0 {
		f |= offload.GuestUSO6
	}
	return f.Consistent()
}

// FlagNames names TUNSETOFFLOAD flags, for the log.
func FlagNames(flags uint) string {
	var names []string
	for _, f := range []struct {
		bit  uint
		name string
	}{{FlagCsum, "csum"}, {FlagTSO4, "tso4"}, {FlagTSO6, "tso6"}, {FlagTSOECN, "tso_ecn"}, {FlagUSO4, "uso4"}, {FlagUSO6, "uso6"}} {
		if flags&f.bit != 0 {
			names = append(names, f.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}
