package virtq

// Chain is one descriptor chain popped from a Queue: its head index and
// its buffers as views into guest memory, device-readable ones first.
//
// The Chain value and its Segs backing array belong to the caller, who
// makes them once (NewChain) and reuses them for every Pop; Pop never
// allocates. The views in Segs are borrowed from the guest (see the
// package documentation): each has capacity equal to its length.
type Chain struct {
	Head     uint16   // descriptor index to give back with AddUsed
	Segs     [][]byte // Segs[:Readable] device-readable, the rest device-writable
	Readable int      // number of device-readable segments
	ReadLen  int      // total bytes of the readable segments
	WriteLen int      // total bytes of the writable segments
}

// NewChain returns a Chain that holds up to maxSegs segments. A chain
// with more buffers is reported as FaultSegmentLimit. 64 covers what Linux
// virtio-net posts (at most MAX_SKB_FRAGS + 2 buffers).
func NewChain(maxSegs int) Chain {
	return Chain{Segs: make([][]byte, 0, maxSegs)}
}

// ReadSegs returns the device-readable segments.
func (c *Chain) ReadSegs() [][]byte { return c.Segs[:c.Readable] }

// WriteSegs returns the device-writable segments.
func (c *Chain) WriteSegs() [][]byte { return c.Segs[c.Readable:] }

// reset empties c for the chain starting at head.
func (c *Chain) reset(head uint16) {
	c.Head = head
	c.Segs = c.Segs[:0]
	c.Readable, c.ReadLen, c.WriteLen = 0, 0, 0
}
