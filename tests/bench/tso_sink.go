package bench

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"mvirt-net/reactor/offload"
	"mvirt-net/reactor/packet"
)

// tsoSampleEvery is how often the TSO sink checks a whole frame byte for
// byte: every so many frames.
const tsoSampleEvery = 64

// tsoSink receives the TSO mode's stream on a port: it counts frames, the
// super-frames among them, and the TCP payload bytes the IPv4 headers
// announce, and checks one frame in tsoSampleEvery whole (checkTCPFrame),
// gathered from its mergeable buffers. Like sink, it gives every buffer
// straight back and sleeps on the call eventfd until a quarter of the
// ring is used.
type tsoSink struct {
	r        *ring
	batch    uint16
	src, dst endpoint

	frames  atomic.Uint64 // frames received
	gso     atomic.Uint64 // of which super-frames (gso_type not NONE)
	payload atomic.Uint64 // TCP payload bytes received

	rest     uint16 // buffers of the current frame still to come
	sampling bool   // the current frame is being gathered into scratch
	scratch  []byte

	// Checked and Bad count the frames checked and those that failed;
	// FirstBad says why the first one did. Read them once run returned.
	Checked, Bad uint64
	FirstBad     string
	cpu          time.Duration
}

func newTSOSink(p *port, src, dst endpoint) *tsoSink {
	return &tsoSink{
		r: p.rx, batch: p.rx.size / 4, src: src, dst: dst,
		scratch: make([]byte, 0, netHdrLen+packet.EthernetHeaderLen+0xffff),
	}
}

// run receives until stop is set, on a thread of its own.
func (s *tsoSink) run(stop *atomic.Bool) error {
	return receive(s.r, s.batch, stop, s.drain, &s.cpu)
}

// drain takes every used buffer, counts and samples the frames and
// reposts the buffers.
func (s *tsoSink) drain() error {
	r := s.r
	n := r.pending()
	if n == 0 {
		return nil
	}
	var frames, gso, payload uint64
	for range n {
		h, l := r.next()
		b := r.buf(h)[:l]
		if s.rest == 0 {
			frames++
			s.rest = max(binary.LittleEndian.Uint16(b[10:]), 1)
			if b[1] != offload.GSONone {
				gso++
			}
			payload += tcpPayloadLen(b[netHdrLen:])
			s.sampling = (s.frames.Load()+frames)%tsoSampleEvery == 0
			s.scratch = s.scratch[:0]
		}
		if s.sampling && len(s.scratch)+len(b) <= cap(s.scratch) {
			s.scratch = append(s.scratch, b...)
		}
		if s.rest--; s.rest == 0 && s.sampling {
			s.check()
		}
		r.post(h)
	}
	s.frames.Add(frames)
	s.gso.Add(gso)
	s.payload.Add(payload)
	return r.publish()
}

// check checks the frame gathered in scratch.
func (s *tsoSink) check() {
	s.Checked++
	if len(s.scratch) < netHdrLen {
		s.bad(fmt.Errorf("a frame of %d bytes", len(s.scratch)))
		return
	}
	if _, err := checkTCPFrame(s.scratch[:netHdrLen], s.scratch[netHdrLen:], s.src, s.dst); err != nil {
		s.bad(err)
	}
}

func (s *tsoSink) bad(err error) {
	if s.Bad++; s.FirstBad == "" {
		s.FirstBad = err.Error()
	}
}

// tcpPayloadLen returns the TCP payload length the headers at the start
// of frame announce, 0 for anything but TCP over IPv4.
func tcpPayloadLen(frame []byte) uint64 {
	if len(frame) < tsoHeaders || packet.Ethernet(frame).EtherType() != packet.EtherTypeIPv4 {
		return 0
	}
	ip := packet.IPv4(frame[packet.EthernetHeaderLen:])
	if ip.Protocol() != packet.ProtoTCP || len(ip) < ip.HeaderLen()+packet.TCPMinHeaderLen {
		return 0
	}
	n := int(ip.TotalLen()) - ip.HeaderLen() - packet.TCP(ip[ip.HeaderLen():]).HeaderLen()
	return uint64(max(n, 0))
}
