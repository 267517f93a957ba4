package offload

// Pullup gathers the first bytes of a frame given in pieces into buf, so
// that the headers Validate needs lie in one slice: it copies
// min(len(buf), frame length) bytes and returns head (buf cut to that
// length) and tail, the rest of the frame as slices of the original pieces,
// written into rest (the first one shortened by what was copied). rest must
// have room for len(frame) slices. Nothing is allocated; tail borrows the
// pieces' memory, head is buf.
//
// A caller whose first piece already holds MaxHeaderLen bytes (or the whole
// frame) can skip the copy and pass frame[0] and frame[1:] instead, if it
// may write the checksum field into frame[0].
func Pullup(buf []byte, frame [][]byte, rest [][]byte) (head []byte, tail [][]byte) {
	n := 0
	i := 0
	for ; i < len(frame) && n < len(buf); i++ {
		c := copy(buf[n:], frame[i])
		n += c
		if c < len(frame[i]) {
			rest[0] = frame[i][c:]
			k := 1 + copy(rest[1:], frame[i+1:])
			return buf[:n], rest[:k]
		}
	}
	k := copy(rest, frame[i:])
	return buf[:n], rest[:k]
}
