package bench

import (
	"encoding/binary"
	"fmt"

	"mvirt-net/reactor/offload"
	"mvirt-net/tests/vmm"
)

// The layout of one super-frame of a TSO ring, as Linux's virtio_net
// (xmit_skb, virtqueue_add_split) hands a TCP skb from tcp_sendmsg to the
// device: the virtio header pushed in front of the linear part, which
// holds only the headers, then one descriptor per page fragment.
const (
	fragSize   = 4096
	tsoFrags   = (tsoPayload + fragSize - 1) / fragSize
	tsoChain   = 1 + tsoFrags // descriptors per super-frame
	tsoHdrBuf  = netHdrLen + tsoHeaders
	tsoTableAt = 256 // offset of the indirect table in a slot's first page
	// tsoSlotSize is a slot's guest memory: a page for the header buffer
	// and the indirect table, then the fragments' pages.
	tsoSlotSize = fragSize + tsoFrags*fragSize
)

// tsoRingMemory is the guest memory a TSO ring of size entries needs at
// most (one slot per entry, with indirect descriptors).
func tsoRingMemory(size uint16) int {
	return ringMemory(size, 0) + int(size)*tsoSlotSize + fragSize
}

// newTSORing carves a transmit ring of super-frames out of mem. With
// indirect descriptors (VIRTIO_RING_F_INDIRECT_DESC negotiated), each of
// the size slots is one ring descriptor pointing at a table of the
// super-frame's tsoChain descriptors, as Linux does whenever it may;
// without, each slot is a chain of tsoChain ring descriptors, so size /
// tsoChain super-frames fit. fillTSO writes the frames.
func newTSORing(mem *vmm.GuestMemory, size uint16, indirect bool) (*ring, error) {
	if size < tsoChain || size&(size-1) != 0 {
		return nil, fmt.Errorf("bench: TSO ring size %d is not a power of 2 of at least %d", size, tsoChain)
	}
	slots, stride := size, uint16(1)
	if !indirect {
		slots, stride = size/tsoChain, tsoChain
	}
	r, err := newRingBuffers(mem, size, slots, stride, tsoSlotSize, fragSize)
	if err != nil {
		return nil, err
	}
	for s := range slots {
		base := r.bufGPA + uint64(s)*tsoSlotSize
		var chain []byte
		var first uint16
		if indirect {
			table := base + tsoTableAt
			chain = mem.Bytes(table, 16*tsoChain)
			putDesc(r.desc[16*int(s):], table, 16*tsoChain, descFIndirect, 0)
		} else {
			first = s * stride
			chain = r.desc[16*int(first) : 16*int(first+tsoChain)]
		}
		putDesc(chain, base, tsoHdrBuf, descFNext, first+1)
		for k := range tsoFrags {
			n := min(fragSize, tsoPayload-k*fragSize)
			flags, next := uint16(descFNext), first+uint16(k)+2
			if k == tsoFrags-1 {
				flags, next = 0, 0
			}
			putDesc(chain[16*(k+1):], base+fragSize*uint64(k+1), n, flags, next)
		}
	}
	return r, nil
}

// putDesc writes a descriptor at d.
func putDesc(d []byte, addr uint64, n int, flags, next uint16) {
	binary.LittleEndian.PutUint64(d, addr)
	binary.LittleEndian.PutUint32(d[8:], uint32(n))
	binary.LittleEndian.PutUint16(d[12:], flags)
	binary.LittleEndian.PutUint16(d[14:], next)
}

// tsoSlot returns slot s's header buffer and payload (contiguous pages
// in the harness, though the device sees them as separate fragments).
func (r *ring) tsoSlot(s uint16) (hdr, payload []byte) {
	b := r.bufs[int(s)*tsoSlotSize : (int(s)+1)*tsoSlotSize]
	return b[:tsoHdrBuf], b[fragSize : fragSize+tsoPayload]
}

// fillTSO writes into every slot of the TSO ring r a super-frame of the
// stream from src to dst: the virtio header (NEEDS_CSUM, TCPV4, gso_size
// tsoMSS) and headers in the header buffer, payload in the fragments.
// Slot s carries the stream's bytes from s*tsoPayload on.
func fillTSO(r *ring, src, dst endpoint) {
	for s := range r.slots {
		hdr, payload := r.tsoSlot(s)
		seq := uint32(s) * tsoPayload
		offload.Header{
			Flags: offload.FlagNeedsCsum, GSOType: offload.GSOTCPv4, HdrLen: tsoHeaders, GSOSize: tsoMSS,
			CsumStart: tsoL4Start, CsumOffset: tcpCsumOffset,
		}.Encode(hdr[:netHdrLen])
		putTCPHeaders(hdr[netHdrLen:], src, dst, seq, tsoPayload, uint16(s))
		for i := range payload {
			payload[i] = streamByte(seq + uint32(i))
		}
	}
}
