package vmm

import (
	"fmt"

	"mvirt-net/reactor/vhostuser"
)

// GetFeatures asks for the virtio features the back-end offers.
func (f *Frontend) GetFeatures() (uint64, error) {
	return f.queryU64(vhostuser.ReqGetFeatures)
}

// SetFeatures acknowledges virtio features.
func (f *Frontend) SetFeatures(features uint64) error {
	if err := f.command(vhostuser.ReqSetFeatures, vhostuser.AppendU64(nil, features), nil); err != nil {
		return err
	}
	f.features = features
	return nil
}

// GetProtocolFeatures asks for the protocol features the back-end offers.
func (f *Frontend) GetProtocolFeatures() (uint64, error) {
	return f.queryU64(vhostuser.ReqGetProtocolFeatures)
}

// SetProtocolFeatures acknowledges protocol features. Like QEMU, it never
// asks for an acknowledgement itself; REPLY_ACK applies from the next
// request on.
func (f *Frontend) SetProtocolFeatures(features uint64) error {
	if err := f.Send(vhostuser.ReqSetProtocolFeatures, 0, vhostuser.AppendU64(nil, features), nil); err != nil {
		return fmt.Errorf("%v: %w", vhostuser.ReqSetProtocolFeatures, err)
	}
	f.protocol = features
	return nil
}

// ProtocolFeatures returns the protocol features last acknowledged.
func (f *Frontend) ProtocolFeatures() uint64 { return f.protocol }

// Features returns the virtio features last acknowledged.
func (f *Frontend) Features() uint64 { return f.features }

// SetOwner claims the back-end for this connection.
func (f *Frontend) SetOwner() error {
	return f.command(vhostuser.ReqSetOwner, nil, nil)
}

// ResetOwner asks the back-end to forget the device configuration.
func (f *Frontend) ResetOwner() error {
	return f.command(vhostuser.ReqResetOwner, nil, nil)
}

// GetQueueNum asks how many queues the back-end supports (MQ).
func (f *Frontend) GetQueueNum() (uint64, error) {
	return f.queryU64(vhostuser.ReqGetQueueNum)
}

// GetMaxMemSlots asks how many memory regions the back-end accepts
// (CONFIGURE_MEM_SLOTS).
func (f *Frontend) GetMaxMemSlots() (uint64, error) {
	return f.queryU64(vhostuser.ReqGetMaxMemSlots)
}

// SetMemTable sends the whole memory table, one descriptor per region.
func (f *Frontend) SetMemTable(regions []MemRegion) error {
	var t vhostuser.MemoryTable
	fds := make([]int, 0, len(regions))
	for _, r := range regions {
		t.Regions = append(t.Regions, r.wire())
		fds = append(fds, r.Fd)
	}
	p, err := t.AppendBinary(nil)
	if err != nil {
		return fmt.Errorf("vmm: %v: %w", vhostuser.ReqSetMemTable, err)
	}
	return f.command(vhostuser.ReqSetMemTable, p, fds)
}

// AddMemReg adds one region of memory (CONFIGURE_MEM_SLOTS).
func (f *Frontend) AddMemReg(r MemRegion) error {
	p, _ := vhostuser.MemRegMsg{Region: r.wire()}.AppendBinary(nil)
	return f.command(vhostuser.ReqAddMemReg, p, []int{r.Fd})
}

// RemMemReg removes a region added before, without sending a descriptor.
func (f *Frontend) RemMemReg(r MemRegion) error {
	p, _ := vhostuser.MemRegMsg{Region: r.wire()}.AppendBinary(nil)
	return f.command(vhostuser.ReqRemMemReg, p, nil)
}

func (f *Frontend) vringState(req vhostuser.Request, q, num uint32) error {
	p, _ := vhostuser.VringState{Index: q, Num: num}.AppendBinary(nil)
	return f.command(req, p, nil)
}

// SetVringNum sets the size of queue q.
func (f *Frontend) SetVringNum(q, num uint32) error {
	return f.vringState(vhostuser.ReqSetVringNum, q, num)
}

// SetVringBase sets the index of the next available descriptor of queue q.
func (f *Frontend) SetVringBase(q, base uint32) error {
	return f.vringState(vhostuser.ReqSetVringBase, q, base)
}

// SetVringEnable enables or disables queue q.
func (f *Frontend) SetVringEnable(q uint32, enable bool) error {
	var v uint32
	if enable {
		v = 1
	}
	return f.vringState(vhostuser.ReqSetVringEnable, q, v)
}

// SetVringAddr sets the addresses, in the VMM's address space, of the
// descriptor table, available ring and used ring of queue q.
func (f *Frontend) SetVringAddr(q uint32, desc, avail, used uint64) error {
	p, _ := vhostuser.VringAddr{Index: q, Desc: desc, Avail: avail, Used: used}.AppendBinary(nil)
	return f.command(vhostuser.ReqSetVringAddr, p, nil)
}

func (f *Frontend) vringFile(req vhostuser.Request, q uint32, fd int) error {
	p, _ := vhostuser.VringFile{Index: uint8(q), NoFd: fd < 0}.AppendBinary(nil)
	var fds []int
	if fd >= 0 {
		fds = []int{fd}
	}
	return f.command(req, p, fds)
}

// SetVringKick sends the eventfd the guest's notifications of queue q
// arrive on; a negative fd tells the back-end to poll the ring.
func (f *Frontend) SetVringKick(q uint32, fd int) error {
	return f.vringFile(vhostuser.ReqSetVringKick, q, fd)
}

// SetVringCall sends the eventfd the back-end interrupts the guest with for
// queue q; a negative fd means none.
func (f *Frontend) SetVringCall(q uint32, fd int) error {
	return f.vringFile(vhostuser.ReqSetVringCall, q, fd)
}

// SetVringErr sends the eventfd the back-end signals errors of queue q on;
// a negative fd means none.
func (f *Frontend) SetVringErr(q uint32, fd int) error {
	return f.vringFile(vhostuser.ReqSetVringErr, q, fd)
}

// GetVringBase stops queue q and returns the index of the next available
// descriptor the back-end would have taken.
func (f *Frontend) GetVringBase(q uint32) (uint32, error) {
	p, _ := vhostuser.VringState{Index: q}.AppendBinary(nil)
	reply, err := f.query(vhostuser.ReqGetVringBase, p)
	if err != nil {
		return 0, err
	}
	var st vhostuser.VringState
	if err := st.UnmarshalBinary(reply); err != nil {
		return 0, fmt.Errorf("vmm: %v reply: %w", vhostuser.ReqGetVringBase, err)
	}
	if st.Index != q {
		return 0, fmt.Errorf("vmm: %v reply for queue %d, asked %d", vhostuser.ReqGetVringBase, st.Index, q)
	}
	return st.Num, nil
}

// SetNetMTU tells the back-end the MTU the driver is given (NET_SET_MTU,
// as QEMU sends host_mtu once the driver acknowledged VIRTIO_NET_F_MTU).
func (f *Frontend) SetNetMTU(mtu uint64) error {
	return f.command(vhostuser.ReqNetSetMTU, vhostuser.AppendU64(nil, mtu), nil)
}
