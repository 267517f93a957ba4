package vhostuser

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// maxRingSize is the largest split virtqueue the specification allows.
const maxRingSize = 32768

// ring is the Session's view of one virtqueue.
//
// A ring runs (the Device processes it) when it is started (SET_VRING_KICK
// arrived since the last GET_VRING_BASE), enabled, has a size and
// addresses, and there is memory. failed holds a ring whose StartRing
// failed until something about it changes.
type ring struct {
	size    uint16
	base    uint16
	addr    VringAddr
	hasAddr bool
	kick    int
	call    int
	err     int
	started bool
	enabled bool
	running bool
	failed  bool
}

func (s *Session) resetRings() {
	for q := range s.rings {
		s.rings[q] = ring{kick: -1, call: -1, err: -1}
	}
}

// ring returns the queue index and ring of a request's index.
func (s *Session) ring(index uint32) (int, *ring, error) {
	if index >= NumQueues {
		return 0, nil, fmt.Errorf("queue %d, the device has %d: %w", index, NumQueues, ErrBadValue)
	}
	return int(index), &s.rings[index], nil
}

// stop stops queue q if it runs, keeping the index the Device returns as
// the base to resume from, and clears its failure so that it is retried.
func (s *Session) stop(q int) {
	r := &s.rings[q]
	r.failed = false
	if !r.running {
		return
	}
	r.base = s.dev.StopRing(q)
	r.running = false
}

func (s *Session) stopAll() {
	for q := range s.rings {
		s.stop(q)
	}
}

func (s *Session) ready(q int) bool {
	r := &s.rings[q]
	return r.started && r.enabled && r.size != 0 && r.hasAddr && len(s.regions) > 0 && !r.failed
}

func (s *Session) ringConfig(q int) RingConfig {
	r := &s.rings[q]
	return RingConfig{
		Features: s.acked,
		Size:     r.size,
		Base:     r.base,
		Desc:     r.addr.Desc,
		Avail:    r.addr.Avail,
		Used:     r.addr.Used,
		Kick:     r.kick,
		Call:     r.call,
		Err:      r.err,
	}
}

// reconcile starts every ring that can run and does not. A ring the Device
// refuses is marked failed and its error eventfd signalled.
func (s *Session) reconcile() {
	for q := range s.rings {
		r := &s.rings[q]
		if r.running || !s.ready(q) {
			continue
		}
		if err := s.dev.StartRing(q, s.ringConfig(q)); err != nil {
			r.failed = true
			s.log.Warn("vhost-user ring did not start", "queue", q, "err", err)
			signal(r.err)
			continue
		}
		r.running = true
	}
}

// signal adds one to eventfd fd, if there is one.
func signal(fd int) {
	if fd < 0 {
		return
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(fd, one[:])
}

func (s *Session) closeRingFds() {
	for q := range s.rings {
		r := &s.rings[q]
		closeFds([]int{r.kick, r.call, r.err})
		r.kick, r.call, r.err = -1, -1, -1
	}
}

// vringState decodes the VringState payload of m and looks up the ring it
// names.
func (s *Session) vringState(m *Message) (VringState, int, *ring, error) {
	var st VringState
	if err := st.UnmarshalBinary(m.Payload); err != nil {
		return st, 0, nil, err
	}
	q, r, err := s.ring(st.Index)
	return st, q, r, err
}

func (s *Session) setVringNum(m *Message) error {
	st, q, r, err := s.vringState(m)
	if err != nil {
		return err
	}
	if st.Num == 0 || st.Num > maxRingSize || st.Num&(st.Num-1) != 0 {
		return fmt.Errorf("queue %d: size %d is not a power of two up to %d: %w", q, st.Num, maxRingSize, ErrBadValue)
	}
	s.stop(q)
	r.size = uint16(st.Num)
	return nil
}

func (s *Session) setVringAddr(m *Message) error {
	var a VringAddr
	if err := a.UnmarshalBinary(m.Payload); err != nil {
		return err
	}
	q, r, err := s.ring(a.Index)
	if err != nil {
		return err
	}
	if a.Flags&VringAddrFlagLog != 0 {
		return fmt.Errorf("queue %d: used ring logging is not offered: %w", q, ErrBadValue)
	}
	if a.Desc%16 != 0 || a.Avail%2 != 0 || a.Used%4 != 0 {
		return fmt.Errorf("queue %d: misaligned ring (desc %#x, avail %#x, used %#x): %w", q, a.Desc, a.Avail, a.Used, ErrBadValue)
	}
	s.stop(q)
	r.addr, r.hasAddr = a, true
	return nil
}

func (s *Session) setVringBase(m *Message) error {
	st, q, r, err := s.vringState(m)
	if err != nil {
		return err
	}
	if st.Num > 0xffff {
		return fmt.Errorf("queue %d: base %#x does not fit a split ring: %w", q, st.Num, ErrBadValue)
	}
	s.stop(q)
	r.base = uint16(st.Num)
	return nil
}

// getVringBase stops the ring until its next SET_VRING_KICK and answers
// the index to resume from.
func (s *Session) getVringBase(m *Message) ([]byte, error) {
	st, q, r, err := s.vringState(m)
	if err != nil {
		return nil, err
	}
	s.stop(q)
	r.started = false
	closeFds([]int{r.kick})
	r.kick = -1
	return VringState{Index: st.Index, Num: uint32(r.base)}.AppendBinary(s.tmp[:0])
}

// setVringFile replaces the kick, call or error eventfd of a ring. A kick,
// with or without descriptor, starts the ring.
func (s *Session) setVringFile(m *Message) error {
	var f VringFile
	if err := f.UnmarshalBinary(m.Payload); err != nil {
		return err
	}
	q, r, err := s.ring(uint32(f.Index))
	if err != nil {
		return err
	}
	if f.NoFd != (len(m.Fds) == 0) {
		return fmt.Errorf("queue %d: no-fd flag %t with %d descriptors: %w", q, f.NoFd, len(m.Fds), ErrBadFds)
	}
	fd := -1
	if !f.NoFd {
		fd = m.TakeFd(0)
	}
	s.stop(q)
	slot := &r.call
	switch m.Request {
	case ReqSetVringKick:
		slot = &r.kick
		r.started = true
	case ReqSetVringErr:
		slot = &r.err
	}
	closeFds([]int{*slot})
	*slot = fd
	return nil
}

func (s *Session) setVringEnable(m *Message) error {
	st, q, r, err := s.vringState(m)
	if err != nil {
		return err
	}
	if st.Num > 1 {
		return fmt.Errorf("queue %d: enable %d: %w", q, st.Num, ErrBadValue)
	}
	if enable := st.Num == 1; enable != r.enabled {
		s.stop(q)
		r.enabled = enable
	}
	return nil
}
