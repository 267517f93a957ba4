package conntrack

import (
	"encoding/binary"
	"net/netip"
)

// Key identifies a connection as its NIC sees it.
type Key struct {
	Local, Remote         [16]byte
	LocalPort, RemotePort uint16
	Proto                 uint8
	V6                    bool
}

// LocalAddr returns Local as an address of its family.
func (k *Key) LocalAddr() netip.Addr { return addr(k.Local, k.V6) }

// RemoteAddr returns Remote as an address of its family.
func (k *Key) RemoteAddr() netip.Addr { return addr(k.Remote, k.V6) }

func addr(b [16]byte, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte(b[12:]))
}

func mix(h, v uint64) uint64 {
	h ^= v
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>29
}

func (k *Key) hash(seed uint64) uint64 {
	h := seed
	h = mix(h, binary.LittleEndian.Uint64(k.Local[:8]))
	h = mix(h, binary.LittleEndian.Uint64(k.Local[8:]))
	h = mix(h, binary.LittleEndian.Uint64(k.Remote[:8]))
	h = mix(h, binary.LittleEndian.Uint64(k.Remote[8:]))
	v := uint64(k.LocalPort) | uint64(k.RemotePort)<<16 | uint64(k.Proto)<<32
	if k.V6 {
		v |= 1 << 40
	}
	return mix(h, v)
}
