package guestmem

// Translate returns the host view of the n guest-physical bytes at gpa.
// It reports false, and returns nil, when n is 0 or the range is not
// entirely inside one region: a range that crosses from one region into
// an adjacent one is refused too, since their host mappings are not
// contiguous. The view's capacity equals its length. It borrows the
// Table's mapping (see Table).
//
// Translate does not allocate: it checks the region of the previous hit
// first, then scans the others.
func (t *Table) Translate(gpa, n uint64) ([]byte, bool) {
	if t.last < len(t.regs) {
		if b, ok := t.regs[t.last].guestView(gpa, n); ok {
			return b, true
		}
	}
	for i := range t.regs {
		if b, ok := t.regs[i].guestView(gpa, n); ok {
			t.last = i
			return b, true
		}
	}
	return nil, false
}

// TranslateUser is Translate for an address in the frontend's own address
// space, as vhost-user SET_VRING_ADDR carries them. If regions overlap in
// that space, the first one added wins.
func (t *Table) TranslateUser(uva, n uint64) ([]byte, bool) {
	for i := range t.regs {
		if b, ok := t.regs[i].view(uva-t.regs[i].UserspaceAddr, uva >= t.regs[i].UserspaceAddr, n); ok {
			return b, true
		}
	}
	return nil, false
}

// guestView returns the view of [gpa, gpa+n) if it lies inside m.
func (m *mapping) guestView(gpa, n uint64) ([]byte, bool) {
	return m.view(gpa-m.GuestPhysAddr, gpa >= m.GuestPhysAddr, n)
}

// view returns data[off:off+n] when above says the address was not below
// the region start and the range fits. The comparisons are arranged so
// that no sum can wrap.
func (m *mapping) view(off uint64, above bool, n uint64) ([]byte, bool) {
	if !above || n == 0 || off >= m.Size || n > m.Size-off {
		return nil, false
	}
	end := off + n
	return m.data[off:end:end], true
}
