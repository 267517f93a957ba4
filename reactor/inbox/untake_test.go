package inbox

import (
	"bytes"
	"testing"
)

// TestUntake: frames taken and then given back with Untake stay in the
// ring: Release frees only those kept (and the cancelled reservations
// among them), a producer sees the others unreleased, and Next returns
// them again, intact and in order, with their attached tails (in one
// piece or several) and headers, cancelled reservations between them
// skipped again.
func TestUntake(t *testing.T) {
	q := newInbox(t, Config{Slots: 16, MaxFrame: 3 * SlotSize})
	sizes := []int{60, 0, 3 * SlotSize, 0, 1514, SlotSize + 1}
	tails := [][][]byte{nil, nil, {pattern(700, 9)}, nil, {pattern(10, 7), pattern(900, 8)}, nil}
	hdrs := []Header{{}, {}, {}, {}, {1, 0, 2}, {}}
	var pos []uint64
	for i, n := range sizes {
		s, ok := q.Reserve(max(n, 1))
		if !ok {
			t.Fatalf("Reserve %d refused", i)
		}
		pos = append(pos, s.Pos())
		if n == 0 {
			s.Cancel()
			continue
		}
		copy(s.Bytes(), pattern(n, byte(i)))
		if tails[i] != nil {
			s.Attach(tails[i])
		}
		s.SetHeader(hdrs[i])
		s.Commit()
	}
	want := func(i int) {
		t.Helper()
		fr, ok := next(q)
		if !ok || !bytes.Equal(fr.Head, pattern(sizes[i], byte(i))) {
			t.Fatalf("frame %d: got %d bytes, %v", i, len(fr.Head), ok)
		}
		if len(fr.Tail) != len(tails[i]) || fr.Hdr != hdrs[i] {
			t.Fatalf("frame %d: tail of %d pieces, header %v; want %d, %v", i, len(fr.Tail), fr.Hdr, len(tails[i]), hdrs[i])
		}
		for k, p := range tails[i] {
			if !bytes.Equal(fr.Tail[k], p) {
				t.Fatalf("frame %d: tail piece %d differs", i, k)
			}
		}
	}
	want(0)
	want(2)
	want(4)
	q.Untake(1)
	q.Release()
	for _, i := range []int{0, 1} {
		if !q.Released(pos[i]) {
			t.Errorf("position %d, kept, not released", i)
		}
	}
	for _, i := range []int{2, 4, 5} {
		if q.Released(pos[i]) {
			t.Errorf("frame %d released after Untake", i)
		}
	}
	want(2)
	want(4)
	want(5)
	if _, ok := next(q); ok {
		t.Fatal("frame beyond the last")
	}
	q.Release()
	for i, p := range pos {
		if !q.Released(p) {
			t.Errorf("position %d not released at last", i)
		}
	}
}

// TestUntakeKeepingAll: Untake keeping as many frames as were taken, or
// more, or with none taken, gives nothing back.
func TestUntakeKeepingAll(t *testing.T) {
	q := newInbox(t, Config{Slots: 8, MaxFrame: SlotSize})
	q.Untake(0)
	for i := range 3 {
		q.Put(pattern(60, byte(i)))
	}
	next(q)
	next(q)
	q.Untake(2)
	q.Untake(5)
	fr, ok := next(q)
	if !ok || !bytes.Equal(fr.Head, pattern(60, 2)) {
		t.Fatalf("after Untake keeping all, Next took %d bytes, %v; want the third frame", len(fr.Head), ok)
	}
	q.Release()
	if _, ok := next(q); ok {
		t.Fatal("frame beyond the last")
	}
}

// TestParkHolding: a consumer holding a frame back cannot Park (a frame
// is committed at its read position), but ParkHolding parks it, and the
// next producer's Flush rings its doorbell.
func TestParkHolding(t *testing.T) {
	q := newInbox(t, Config{Slots: 8, MaxFrame: SlotSize})
	q.Put(pattern(60, 1))
	next(q)
	q.Untake(0)
	q.Release()
	if q.Park() {
		t.Fatal("Park with a frame held back in the ring")
	}
	q.ParkHolding()
	q.Put(pattern(60, 2))
	q.Flush()
	waitDoorbell(t, q)
	q.Unpark()
	for i := range 2 {
		if fr, ok := next(q); !ok || !bytes.Equal(fr.Head, pattern(60, byte(1+i))) {
			t.Fatalf("frame %d not taken after the doorbell", i)
		}
	}
}
