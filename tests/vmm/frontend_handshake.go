package vmm

import (
	"fmt"

	"mvirt-net/reactor/vhostuser"
)

// VringSetup is one virtqueue as the VMM configures it: its size, the
// addresses of its parts in the VMM's address space, and its eventfds
// (negative for none), which stay the caller's.
type VringSetup struct {
	Size  uint16
	Desc  uint64
	Avail uint64
	Used  uint64
	Kick  int
	Call  int
}

// HandshakeConfig is what Handshake negotiates and configures: the virtio
// and protocol features to acknowledge (each must be offered by the
// back-end; protocol features are negotiated only when Features includes
// vhostuser.FeatureProtocolFeatures), guest memory, and the virtqueues in
// order (receive, transmit).
type HandshakeConfig struct {
	Features         uint64
	ProtocolFeatures uint64
	Regions          []MemRegion
	Vrings           []VringSetup
}

// Handshake brings a fresh connection to running rings in the order QEMU
// uses for a vhost-user net device (vhost_user_backend_init, vhost_dev_init,
// then vhost_dev_start / vhost_net_start):
//
//	GET_FEATURES, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES,
//	GET_QUEUE_NUM (MQ), GET_MAX_MEM_SLOTS (CONFIGURE_MEM_SLOTS),
//	SET_OWNER, GET_FEATURES, SET_VRING_CALL per queue,
//	SET_FEATURES, SET_MEM_TABLE (or ADD_MEM_REG per region with
//	CONFIGURE_MEM_SLOTS), per queue SET_VRING_NUM, SET_VRING_BASE 0,
//	SET_VRING_ADDR, SET_VRING_KICK, SET_VRING_CALL, and finally
//	SET_VRING_ENABLE 1 per queue when protocol features are negotiated.
func (f *Frontend) Handshake(cfg HandshakeConfig) error {
	offered, err := f.GetFeatures()
	if err != nil {
		return err
	}
	want := cfg.Features
	if missing := want &^ offered; missing != 0 {
		return fmt.Errorf("vmm: handshake: features %#x not offered (offer %#x)", missing, offered)
	}
	if want&vhostuser.FeatureProtocolFeatures != 0 {
		if err := f.negotiateProtocol(cfg); err != nil {
			return err
		}
	}
	if err := f.SetOwner(); err != nil {
		return err
	}
	if _, err := f.GetFeatures(); err != nil {
		return err
	}
	for q, v := range cfg.Vrings {
		if err := f.SetVringCall(uint32(q), v.Call); err != nil {
			return err
		}
	}
	if err := f.SetFeatures(want); err != nil {
		return err
	}
	if err := f.setMemory(cfg.Regions); err != nil {
		return err
	}
	for q, v := range cfg.Vrings {
		if err := f.startVring(uint32(q), v); err != nil {
			return err
		}
	}
	if want&vhostuser.FeatureProtocolFeatures == 0 {
		return nil
	}
	for q := range cfg.Vrings {
		if err := f.SetVringEnable(uint32(q), true); err != nil {
			return err
		}
	}
	return nil
}

func (f *Frontend) negotiateProtocol(cfg HandshakeConfig) error {
	offered, err := f.GetProtocolFeatures()
	if err != nil {
		return err
	}
	want := cfg.ProtocolFeatures
	if missing := want &^ offered; missing != 0 {
		return fmt.Errorf("vmm: handshake: protocol features %#x not offered (offer %#x)", missing, offered)
	}
	if err := f.SetProtocolFeatures(want); err != nil {
		return err
	}
	if want&vhostuser.ProtocolMQ != 0 {
		n, err := f.GetQueueNum()
		if err != nil {
			return err
		}
		if n < uint64(len(cfg.Vrings)) {
			return fmt.Errorf("vmm: handshake: back-end supports %d queues, need %d", n, len(cfg.Vrings))
		}
	}
	if want&vhostuser.ProtocolConfigureMemSlots != 0 {
		n, err := f.GetMaxMemSlots()
		if err != nil {
			return err
		}
		if n < uint64(len(cfg.Regions)) {
			return fmt.Errorf("vmm: handshake: back-end accepts %d memory slots, need %d", n, len(cfg.Regions))
		}
	}
	return nil
}

func (f *Frontend) setMemory(regions []MemRegion) error {
	if f.protocol&vhostuser.ProtocolConfigureMemSlots == 0 {
		return f.SetMemTable(regions)
	}
	for _, r := range regions {
		if err := f.AddMemReg(r); err != nil {
			return err
		}
	}
	return nil
}

func (f *Frontend) startVring(q uint32, v VringSetup) error {
	if err := f.SetVringNum(q, uint32(v.Size)); err != nil {
		return err
	}
	if err := f.SetVringBase(q, 0); err != nil {
		return err
	}
	if err := f.SetVringAddr(q, v.Desc, v.Avail, v.Used); err != nil {
		return err
	}
	if err := f.SetVringKick(q, v.Kick); err != nil {
		return err
	}
	return f.SetVringCall(q, v.Call)
}

// StopVrings stops queues 0 to n-1 as QEMU's vhost_dev_stop does
// (SET_VRING_ENABLE 0 each when protocol features are negotiated, then
// GET_VRING_BASE each) and returns the index each would resume from.
func (f *Frontend) StopVrings(n int) ([]uint32, error) {
	if f.features&vhostuser.FeatureProtocolFeatures != 0 {
		for q := range n {
			if err := f.SetVringEnable(uint32(q), false); err != nil {
				return nil, err
			}
		}
	}
	bases := make([]uint32, n)
	for q := range n {
		b, err := f.GetVringBase(uint32(q))
		if err != nil {
			return nil, err
		}
		bases[q] = b
	}
	return bases, nil
}
