package conntrack

import "encoding/binary"

// Recent is the connection one direction of a NIC saw last, so that a
// burst of one connection's packets costs no parse and no table lookup:
// its frames' signature, its entry and the entry's generation. The zero
// Recent remembers nothing.
type Recent struct {
	e   *Entry
	gen uint32
	sig Sig
}

// Remember makes e, the connection of frame, the recent one, if frame has
// a signature; otherwise Recent stays as it was.
func (r *Recent) Remember(frame []byte, e *Entry) {
	sig, _, ok := Signature(frame)
	if !ok {
		return
	}
	r.e, r.gen, r.sig = e, e.gen, sig
}

// Pass takes a frame of the recent connection, if frame has its
// signature and the connection is still tracked in the same slot at now:
// it updates the entry as Seen does (fromLocal: the NIC sent it) and
// reports true. For any other frame, and for a SYN that may reopen a
// closed connection, it reports false and changes nothing.
func (r *Recent) Pass(frame []byte, fromLocal bool, now int64) bool {
	e, s := r.e, &r.sig
	if e == nil {
		return false
	}
	var flags uint8
	var ok bool
	if s.v6 {
		flags, ok = s.matches6(frame)
	} else if len(frame) >= 14+20+4 &&
		// common4, with the protocol, in two masked words: the
		// EtherType and 0x45; the fragment bits and the protocol
		// around the TTL.
		binary.LittleEndian.Uint32(frame[12:16])&0x00ffffff == 0x00450008 &&
		binary.LittleEndian.Uint32(frame[20:24])&0xff00ff1f == uint32(s.proto)<<24 &&
		binary.LittleEndian.Uint64(frame[26:34]) == s.w[0] && binary.LittleEndian.Uint32(frame[34:38]) == s.ports {
		flags, ok = transport(frame, s.proto, 34)
	}
	if !ok || e.gen != r.gen || e.expires <= now {
		return false
	}
	if e.Touch(flags, now) {
		return true
	}
	if flags&(FlagSYN|FlagACK) == FlagSYN && e.State == StateClosed {
		return false
	}
	e.Seen(fromLocal, flags, now)
	return true
}

// matches6 reports whether frame, an IPv6 frame, has the signature s,
// and returns its TCP flags.
func (s *Sig) matches6(frame []byte) (tcpFlags uint8, ok bool) {
	if !common6(frame) || frame[20] != s.proto {
		return 0, false
	}
	a := frame[22:58]
	if binary.LittleEndian.Uint64(a[0:8]) != s.w[0] || binary.LittleEndian.Uint32(a[32:36]) != s.ports ||
		binary.LittleEndian.Uint64(a[8:16]) != s.w[1] || binary.LittleEndian.Uint64(a[16:24]) != s.w[2] ||
		binary.LittleEndian.Uint64(a[24:32]) != s.w[3] {
		return 0, false
	}
	return transport(frame, s.proto, 54)
}
