package offload

import "strings"

// Bit numbers of the virtio-net offload features in the 64-bit virtio
// feature word (virtio 1.2 §5.1.3). The UFO bits (GUEST_UFO 10, HOST_UFO
// 14) are deliberately absent: IP fragmentation offload is never offered.
const (
	BitCsum      = 0  // VIRTIO_NET_F_CSUM: the device takes partial checksums
	BitGuestCsum = 1  // VIRTIO_NET_F_GUEST_CSUM: the driver takes partial checksums
	BitGuestTSO4 = 7  // VIRTIO_NET_F_GUEST_TSO4
	BitGuestTSO6 = 8  // VIRTIO_NET_F_GUEST_TSO6
	BitGuestECN  = 9  // VIRTIO_NET_F_GUEST_ECN
	BitHostTSO4  = 11 // VIRTIO_NET_F_HOST_TSO4
	BitHostTSO6  = 12 // VIRTIO_NET_F_HOST_TSO6
	BitHostECN   = 13 // VIRTIO_NET_F_HOST_ECN
	BitGuestUSO4 = 54 // VIRTIO_NET_F_GUEST_USO4
	BitGuestUSO6 = 55 // VIRTIO_NET_F_GUEST_USO6
	BitHostUSO   = 56 // VIRTIO_NET_F_HOST_USO
)

// Features is a set of negotiated virtio-net offload features, in a compact
// numbering of its own (use FromVirtio and Virtio to convert). HOST_*
// features and CSUM say what a driver may send to the device; GUEST_*
// features say what the device may send to the driver.
type Features uint16

// The offload features.
const (
	Csum      Features = 1 << iota // VIRTIO_NET_F_CSUM
	GuestCsum                      // VIRTIO_NET_F_GUEST_CSUM
	HostTSO4                       // VIRTIO_NET_F_HOST_TSO4
	HostTSO6                       // VIRTIO_NET_F_HOST_TSO6
	HostECN                        // VIRTIO_NET_F_HOST_ECN
	HostUSO                        // VIRTIO_NET_F_HOST_USO
	GuestTSO4                      // VIRTIO_NET_F_GUEST_TSO4
	GuestTSO6                      // VIRTIO_NET_F_GUEST_TSO6
	GuestECN                       // VIRTIO_NET_F_GUEST_ECN
	GuestUSO4                      // VIRTIO_NET_F_GUEST_USO4
	GuestUSO6                      // VIRTIO_NET_F_GUEST_USO6

	// All is every offload feature.
	All = Csum | GuestCsum | HostTSO4 | HostTSO6 | HostECN | HostUSO |
		GuestTSO4 | GuestTSO6 | GuestECN | GuestUSO4 | GuestUSO6
)

// featureBits maps each feature, by its index in Features, to its virtio
// bit number and name.
var featureBits = [...]struct {
	bit  uint
	name string
}{
	{BitCsum, "csum"},
	{BitGuestCsum, "guest_csum"},
	{BitHostTSO4, "host_tso4"},
	{BitHostTSO6, "host_tso6"},
	{BitHostECN, "host_ecn"},
	{BitHostUSO, "host_uso"},
	{BitGuestTSO4, "guest_tso4"},
	{BitGuestTSO6, "guest_tso6"},
	{BitGuestECN, "guest_ecn"},
	{BitGuestUSO4, "guest_uso4"},
	{BitGuestUSO6, "guest_uso6"},
}

// FromVirtio returns the offload features set in a 64-bit virtio feature
// word (offered or negotiated), ignoring every other bit. It does not apply
// the dependency rules: see Consistent.
func FromVirtio(word uint64) Features {
	var f Features
	for i, fb := range featureBits {
		if word&(1<<fb.bit) != 0 {
			f |= 1 << i
		}
	}
	return f
}

// Virtio returns the virtio feature word bits of f.
func (f Features) Virtio() uint64 {
	var w uint64
	for i, fb := range featureBits {
		if f&(1<<i) != 0 {
			w |= 1 << fb.bit
		}
	}
	return w
}

// Has reports whether every feature of g is in f.
func (f Features) Has(g Features) bool { return f&g == g }

// Consistent returns f without the features whose prerequisites are missing,
// by the rules of virtio 1.2 §5.1.3.1 (a device must not offer, and a driver
// must not accept, a feature without what it requires):
//
//	HOST_TSO4, HOST_TSO6, HOST_USO   require CSUM
//	HOST_ECN                         requires HOST_TSO4 or HOST_TSO6
//	GUEST_TSO4, GUEST_TSO6           require GUEST_CSUM
//	GUEST_USO4, GUEST_USO6           require GUEST_CSUM
//	GUEST_ECN                        requires GUEST_TSO4 or GUEST_TSO6
//
// The ECN rules are applied after the TSO rules, so stripping CSUM strips
// HOST_ECN with HOST_TSO4/6.
func (f Features) Consistent() Features {
	if f&Csum == 0 {
		f &^= HostTSO4 | HostTSO6 | HostUSO
	}
	if f&GuestCsum == 0 {
		f &^= GuestTSO4 | GuestTSO6 | GuestUSO4 | GuestUSO6
	}
	if f&(HostTSO4|HostTSO6) == 0 {
		f &^= HostECN
	}
	if f&(GuestTSO4|GuestTSO6) == 0 {
		f &^= GuestECN
	}
	return f
}

// String lists the features, lower_snake and comma-separated, for logs.
func (f Features) String() string {
	var b strings.Builder
	for i, fb := range featureBits {
		if f&(1<<i) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(fb.name)
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}
