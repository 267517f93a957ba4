package vhostuser

import "fmt"

// The MTUs NET_SET_MTU may set (virtio-net's mtu field: 68 up to 65535).
const (
	MinNetMTU = 68
	MaxNetMTU = 65535
)

// setMTU checks the MTU the front-end tells its driver (QEMU's host_mtu),
// refusing one below MinNetMTU or above MaxMTU: the driver would send
// packets that the network answers too big. An accepted one is logged;
// nothing else depends on it (the network's MTU is enforced by routing).
func (s *Session) setMTU(m *Message) error {
	v, err := ParseU64(m.Payload)
	if err != nil {
		return err
	}
	limit := MaxNetMTU
	if s.maxMTU != nil {
		limit = s.maxMTU()
	}
	if v < MinNetMTU || v > uint64(limit) {
		return fmt.Errorf("mtu %d is outside %d-%d (the network's MTU): %w", v, MinNetMTU, limit, ErrBadValue)
	}
	s.log.Info("vhost-user front-end set the MTU", "mtu", v, "max", limit)
	return nil
}
