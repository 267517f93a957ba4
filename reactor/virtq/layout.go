package virtq

// MaxSize is the largest queue size a split virtqueue can have.
const MaxSize = 32768

// Descriptor layout (struct virtq_desc, 16 bytes, little-endian).
const (
	descSize      = 16
	descFNext     = 1
	descFWrite    = 2
	descFIndirect = 4
)

// Available ring layout (struct virtq_avail): flags, idx, ring[size],
// used_event. Only 2-byte alignment is required.
const (
	availFlagsOff     = 0
	availIdxOff       = 2
	availRingOff      = 4
	availFNoInterrupt = 1
	availAlign        = 2
)

// Used ring layout (struct virtq_used): flags, idx, ring[size] of {id u32,
// len u32}, avail_event. 4-byte alignment is required.
const (
	usedFlagsOff   = 0
	usedIdxOff     = 2
	usedRingOff    = 4
	usedElemSize   = 8
	usedFNoNotify  = 1
	usedAlign      = 4
	descTableAlign = 16
)

// availLen and usedLen are the ring sizes in bytes for a queue of size n,
// event index fields included.
func availLen(n int) int { return availRingOff + 2*n + 2 }
func usedLen(n int) int  { return usedRingOff + usedElemSize*n + 2 }

// needEvent is the spec's vring_need_event: whether moving an index from
// old to new passes event, the index at which the other side asked to be
// told.
func needEvent(event, new, old uint16) bool {
	return new-event-1 < new-old
}
