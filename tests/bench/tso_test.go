package bench

import (
	"encoding/binary"
	"strings"
	"testing"

	"mvirt-net/reactor/packet"
)

// gatherChain follows the descriptor chain of r's slot s as a device
// does, through the indirect table if there is one, and returns the
// bytes it covers and the number of descriptors.
func gatherChain(t *testing.T, r *ring, s uint16) ([]byte, int) {
	t.Helper()
	table, i := r.desc, int(s*r.stride)
	if f := binary.LittleEndian.Uint16(r.desc[16*i+12:]); f&descFIndirect != 0 {
		d := r.desc[16*i:]
		table = r.mem.Bytes(binary.LittleEndian.Uint64(d), int(binary.LittleEndian.Uint32(d[8:])))
		i = 0
	}
	var out []byte
	for n := 1; ; n++ {
		d := table[16*i:]
		out = append(out, r.mem.Bytes(binary.LittleEndian.Uint64(d), int(binary.LittleEndian.Uint32(d[8:])))...)
		if binary.LittleEndian.Uint16(d[12:])&descFNext == 0 {
			return out, n
		}
		i = int(binary.LittleEndian.Uint16(d[14:]))
	}
}

// TestTSORingLayout checks that every slot of a TSO ring, with and
// without indirect descriptors, is a chain of a header buffer and page
// fragments that holds a valid super-frame of the stream.
func TestTSORingLayout(t *testing.T) {
	for _, indirect := range []bool{true, false} {
		p, err := newPort(portConfig{QueueSize: 64, RxBufSize: 2048, TSO: true})
		if err != nil {
			t.Fatal(err)
		}
		defer p.close()
		r, err := newTSORing(p.mem, 64, indirect)
		if err != nil {
			t.Fatal(err)
		}
		fillTSO(r, endA, endB)
		for s := range r.slots {
			b, n := gatherChain(t, r, s)
			if n != tsoChain || len(b) != netHdrLen+tsoHeaders+tsoPayload {
				t.Fatalf("indirect=%v slot %d: %d descriptors, %d bytes", indirect, s, n, len(b))
			}
			seg, err := checkTCPFrame(b[:netHdrLen], b[netHdrLen:], endA, endB)
			if err != nil || seg.Payload != tsoPayload || seg.Seq != uint32(s)*tsoPayload {
				t.Fatalf("indirect=%v slot %d: %+v %v", indirect, s, seg, err)
			}
		}
		if want := map[bool]uint16{true: 64, false: 64 / tsoChain}[indirect]; r.slots != want {
			t.Fatalf("indirect=%v: %d slots, want %d", indirect, r.slots, want)
		}
	}
}

// TestCheckTCPFrameSegments cuts a super-frame into the segments a
// device that segments must deliver and checks that checkTCPFrame
// accepts each and rejects a flipped payload byte, a wrong checksum and
// a segment of another stream position.
func TestCheckTCPFrameSegments(t *testing.T) {
	const seq0 = 1 << 20
	for k := range tsoSegments {
		seg := make([]byte, tsoHeaders+tsoMSS)
		seq := seq0 + uint32(k*tsoMSS)
		putTCPHeaders(seg, endA, endB, seq, tsoMSS, uint16(k))
		for i := range tsoMSS {
			seg[tsoHeaders+i] = streamByte(seq + uint32(i))
		}
		l4 := seg[tsoL4Start:]
		binary.BigEndian.PutUint16(l4[tcpCsumOffset:], 0)
		binary.BigEndian.PutUint16(l4[tcpCsumOffset:], packet.TransportChecksum(packet.ProtoTCP, endA.IP, endB.IP, l4))
		hdr := make([]byte, netHdrLen)
		got, err := checkTCPFrame(hdr, seg, endA, endB)
		if err != nil || got.Seq != seq || got.Payload != tsoMSS {
			t.Fatalf("segment %d: %+v %v", k, got, err)
		}
		for _, c := range []struct {
			name, want string
			change     func(b []byte)
		}{
			{"payload byte", "bad TCP checksum", func(b []byte) { b[tsoHeaders+7]++; b[tsoHeaders+8]-- }},
			{"checksum", "bad TCP checksum", func(b []byte) { b[tsoL4Start+tcpCsumOffset]++ }},
			{"sequence", "payload byte", func(b []byte) {
				binary.BigEndian.PutUint32(b[tsoL4Start+4:], seq+1)
				l4 := b[tsoL4Start:]
				binary.BigEndian.PutUint16(l4[tcpCsumOffset:], 0)
				binary.BigEndian.PutUint16(l4[tcpCsumOffset:], packet.TransportChecksum(packet.ProtoTCP, endA.IP, endB.IP, l4))
			}},
		} {
			bad := append([]byte(nil), seg...)
			c.change(bad)
			if _, err := checkTCPFrame(hdr, bad, endA, endB); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("segment %d with a changed %s: %v, want an error saying %q", k, c.name, err, c.want)
			}
		}
	}
}
