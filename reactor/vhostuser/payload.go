package vhostuser

import (
	"encoding/binary"
	"fmt"
)

// Payload sizes on the wire.
const (
	U64Size          = 8
	VringStateSize   = 8
	VringAddrSize    = 40
	MemoryRegionSize = 32
	// MemoryTableHeaderSize is the {nregions u32, padding u32} before the
	// regions of SET_MEM_TABLE.
	MemoryTableHeaderSize = 8
	// MemRegMsgSize is the payload of ADD_MEM_REG and REM_MEM_REG: a u64 of
	// padding and one region.
	MemRegMsgSize = 8 + MemoryRegionSize
	LogSize       = 16
	// ConfigHeaderSize is the {offset, size, flags} before the bytes of
	// GET_CONFIG / SET_CONFIG.
	ConfigHeaderSize = 12
	// MaxConfigSize bounds the device configuration space in a config
	// payload.
	MaxConfigSize = 256
	// MaxRegions bounds the regions of a SET_MEM_TABLE.
	MaxRegions = 8
)

// Bits of the u64 payload of SET_VRING_KICK, SET_VRING_CALL and
// SET_VRING_ERR.
const (
	// VringIndexMask selects the queue index.
	VringIndexMask uint64 = 0xff
	// VringNoFdMask says no descriptor comes with the message: the back-end
	// polls the ring (kick) or does not notify (call, err).
	VringNoFdMask uint64 = 0x100
)

// VringAddrFlagLog is the only flag of VringAddr: log writes to the used
// ring at Log (live migration).
const VringAddrFlagLog uint32 = 0x1

func checkLen(what string, b []byte, want int) error {
	if len(b) != want {
		return fmt.Errorf("%s payload of %d bytes, want %d: %w", what, len(b), want, ErrBadSize)
	}
	return nil
}

// ParseU64 decodes a u64 payload.
func ParseU64(b []byte) (uint64, error) {
	if err := checkLen("u64", b, U64Size); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// AppendU64 appends a u64 payload to b.
func AppendU64(b []byte, v uint64) []byte {
	return binary.LittleEndian.AppendUint64(b, v)
}

// VringState is the payload of SET_VRING_NUM, SET_VRING_BASE,
// GET_VRING_BASE and SET_VRING_ENABLE: a queue index and a number.
type VringState struct {
	Index uint32
	Num   uint32
}

// UnmarshalBinary decodes a vring state.
func (v *VringState) UnmarshalBinary(b []byte) error {
	if err := checkLen("vring state", b, VringStateSize); err != nil {
		return err
	}
	v.Index = binary.LittleEndian.Uint32(b[0:])
	v.Num = binary.LittleEndian.Uint32(b[4:])
	return nil
}

// AppendBinary appends the wire form of v to b.
func (v VringState) AppendBinary(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint32(b, v.Index)
	return binary.LittleEndian.AppendUint32(b, v.Num), nil
}

// VringAddr is the payload of SET_VRING_ADDR. Desc, Used and Avail are
// addresses in the front-end's (VMM's) virtual address space; Log is a guest
// physical address.
type VringAddr struct {
	Index uint32
	Flags uint32
	Desc  uint64
	Used  uint64
	Avail uint64
	Log   uint64
}

// UnmarshalBinary decodes a vring address.
func (v *VringAddr) UnmarshalBinary(b []byte) error {
	if err := checkLen("vring address", b, VringAddrSize); err != nil {
		return err
	}
	v.Index = binary.LittleEndian.Uint32(b[0:])
	v.Flags = binary.LittleEndian.Uint32(b[4:])
	v.Desc = binary.LittleEndian.Uint64(b[8:])
	v.Used = binary.LittleEndian.Uint64(b[16:])
	v.Avail = binary.LittleEndian.Uint64(b[24:])
	v.Log = binary.LittleEndian.Uint64(b[32:])
	return nil
}

// AppendBinary appends the wire form of v to b.
func (v VringAddr) AppendBinary(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint32(b, v.Index)
	b = binary.LittleEndian.AppendUint32(b, v.Flags)
	b = binary.LittleEndian.AppendUint64(b, v.Desc)
	b = binary.LittleEndian.AppendUint64(b, v.Used)
	b = binary.LittleEndian.AppendUint64(b, v.Avail)
	return binary.LittleEndian.AppendUint64(b, v.Log), nil
}

// VringFile is the u64 payload of SET_VRING_KICK, SET_VRING_CALL and
// SET_VRING_ERR: a queue index, and whether a descriptor comes with it.
type VringFile struct {
	Index uint8
	NoFd  bool
}

// UnmarshalBinary decodes a vring file payload. Bits beyond the index and
// the no-fd flag must be zero.
func (v *VringFile) UnmarshalBinary(b []byte) error {
	u, err := ParseU64(b)
	if err != nil {
		return err
	}
	if u&^(VringIndexMask|VringNoFdMask) != 0 {
		return fmt.Errorf("vring file payload %#x has reserved bits set: %w", u, ErrBadValue)
	}
	v.Index = uint8(u & VringIndexMask)
	v.NoFd = u&VringNoFdMask != 0
	return nil
}

// AppendBinary appends the wire form of v to b.
func (v VringFile) AppendBinary(b []byte) ([]byte, error) {
	u := uint64(v.Index)
	if v.NoFd {
		u |= VringNoFdMask
	}
	return AppendU64(b, u), nil
}

// MemoryRegion describes one region of guest memory: where it is in guest
// physical space, where the front-end has it mapped, and at which offset of
// the file descriptor sent with it the region starts.
type MemoryRegion struct {
	GuestPhysAddr uint64
	Size          uint64
	UserspaceAddr uint64
	MmapOffset    uint64
}

// UnmarshalBinary decodes one region.
func (r *MemoryRegion) UnmarshalBinary(b []byte) error {
	if err := checkLen("memory region", b, MemoryRegionSize); err != nil {
		return err
	}
	r.GuestPhysAddr = binary.LittleEndian.Uint64(b[0:])
	r.Size = binary.LittleEndian.Uint64(b[8:])
	r.UserspaceAddr = binary.LittleEndian.Uint64(b[16:])
	r.MmapOffset = binary.LittleEndian.Uint64(b[24:])
	return nil
}

// AppendBinary appends the wire form of r to b.
func (r MemoryRegion) AppendBinary(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint64(b, r.GuestPhysAddr)
	b = binary.LittleEndian.AppendUint64(b, r.Size)
	b = binary.LittleEndian.AppendUint64(b, r.UserspaceAddr)
	return binary.LittleEndian.AppendUint64(b, r.MmapOffset), nil
}

// MemoryTable is the payload of SET_MEM_TABLE: up to MaxRegions regions, one
// file descriptor per region in the ancillary data, in the same order. On
// the wire it is {nregions u32, padding u32} followed by exactly nregions
// regions.
type MemoryTable struct {
	Regions []MemoryRegion
}

// UnmarshalBinary decodes a memory table, reusing t.Regions' storage.
func (t *MemoryTable) UnmarshalBinary(b []byte) error {
	if len(b) < MemoryTableHeaderSize {
		return fmt.Errorf("memory table payload of %d bytes: %w", len(b), ErrBadSize)
	}
	n := binary.LittleEndian.Uint32(b)
	if n > MaxRegions {
		return fmt.Errorf("memory table with %d regions, at most %d: %w", n, MaxRegions, ErrBadValue)
	}
	if err := checkLen("memory table", b, MemoryTableHeaderSize+int(n)*MemoryRegionSize); err != nil {
		return err
	}
	t.Regions = t.Regions[:0]
	for i := range int(n) {
		var r MemoryRegion
		off := MemoryTableHeaderSize + i*MemoryRegionSize
		if err := r.UnmarshalBinary(b[off : off+MemoryRegionSize]); err != nil {
			return err
		}
		t.Regions = append(t.Regions, r)
	}
	return nil
}

// AppendBinary appends the wire form of t to b.
func (t MemoryTable) AppendBinary(b []byte) ([]byte, error) {
	if len(t.Regions) > MaxRegions {
		return b, fmt.Errorf("memory table with %d regions, at most %d: %w", len(t.Regions), MaxRegions, ErrBadValue)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Regions)))
	b = binary.LittleEndian.AppendUint32(b, 0)
	for _, r := range t.Regions {
		b, _ = r.AppendBinary(b)
	}
	return b, nil
}

// MemRegMsg is the payload of ADD_MEM_REG and REM_MEM_REG: one region.
type MemRegMsg struct {
	Region MemoryRegion
}

// UnmarshalBinary decodes a single-region payload.
func (m *MemRegMsg) UnmarshalBinary(b []byte) error {
	if err := checkLen("memory region message", b, MemRegMsgSize); err != nil {
		return err
	}
	return m.Region.UnmarshalBinary(b[8:])
}

// AppendBinary appends the wire form of m to b.
func (m MemRegMsg) AppendBinary(b []byte) ([]byte, error) {
	return m.Region.AppendBinary(AppendU64(b, 0))
}

// Log is the payload of SET_LOG_BASE: the dirty log area in the descriptor
// sent with it.
type Log struct {
	MmapSize   uint64
	MmapOffset uint64
}

// UnmarshalBinary decodes a log description.
func (l *Log) UnmarshalBinary(b []byte) error {
	if err := checkLen("log", b, LogSize); err != nil {
		return err
	}
	l.MmapSize = binary.LittleEndian.Uint64(b[0:])
	l.MmapOffset = binary.LittleEndian.Uint64(b[8:])
	return nil
}

// AppendBinary appends the wire form of l to b.
func (l Log) AppendBinary(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint64(b, l.MmapSize)
	return binary.LittleEndian.AppendUint64(b, l.MmapOffset), nil
}

// Config is the payload of GET_CONFIG and SET_CONFIG: a window of the
// device configuration space. Data aliases the decoded buffer.
type Config struct {
	Offset uint32
	Flags  uint32
	Data   []byte
}

// UnmarshalBinary decodes a config payload; Data aliases b.
func (c *Config) UnmarshalBinary(b []byte) error {
	if len(b) < ConfigHeaderSize {
		return fmt.Errorf("config payload of %d bytes: %w", len(b), ErrBadSize)
	}
	size := binary.LittleEndian.Uint32(b[4:])
	if size > MaxConfigSize {
		return fmt.Errorf("config of %d bytes, at most %d: %w", size, MaxConfigSize, ErrBadValue)
	}
	if err := checkLen("config", b, ConfigHeaderSize+int(size)); err != nil {
		return err
	}
	c.Offset = binary.LittleEndian.Uint32(b[0:])
	c.Flags = binary.LittleEndian.Uint32(b[8:])
	c.Data = b[ConfigHeaderSize:]
	return nil
}

// AppendBinary appends the wire form of c to b.
func (c Config) AppendBinary(b []byte) ([]byte, error) {
	if len(c.Data) > MaxConfigSize {
		return b, fmt.Errorf("config of %d bytes, at most %d: %w", len(c.Data), MaxConfigSize, ErrBadValue)
	}
	b = binary.LittleEndian.AppendUint32(b, c.Offset)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(c.Data)))
	b = binary.LittleEndian.AppendUint32(b, c.Flags)
	return append(b, c.Data...), nil
}
