package inbox

import (
	"bytes"
	"testing"
)

// TestUntake: frames taken and then given back with Untake stay in the
// ring: Release frees only those before them, a producer sees them
// unreleased, and Next returns them again, intact and in order, with
// their attached tails (in one piece or several) and headers, a
// cancelled reservation between them skipped again.
func TestUntake(t *testing.T) {
	q := newInbox(t, Config{Slots: 16, MaxFrame: 3 * SlotSize})
	sizes := []int{60, 3 * SlotSize, 0, 1514, SlotSize + 1}
	tails := [][][]byte{nil, {pattern(700, 9)}, nil, {pattern(10, 7), pattern(900, 8)}, nil}
	hdrs := []Header{{}, {}, {}, {1, 0, 2}, {}}
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
	at := q.Cursor()
	want(1)
	want(3)
	q.Untake(at)
	q.Release()
	if !q.Released(pos[0]) {
		t.Error("frame taken before the Cursor not released")
	}
	for _, i := range []int{1, 3, 4} {
		if q.Released(pos[i]) {
			t.Errorf("frame %d released after Untake", i)
		}
	}
	want(1)
	want(3)
	want(4)
	if _, ok := next(q); ok {
		t.Fatal("frame beyond the last")
	}
	q.Release()
	for i, p := range pos {
		if !q.Released(p) {
			t.Errorf("frame %d not released at last", i)
		}
	}
}

// TestUntakeChecksPosition: Untake to a position released already, or not
// yet taken, is a bug of the consumer and panics.
func TestUntakeChecksPosition(t *testing.T) {
	q := newInbox(t, Config{Slots: 8, MaxFrame: SlotSize})
	q.Put(pattern(60, 1))
	before := q.Cursor()
	next(q)
	q.Release()
	for _, p := range []uint64{before, q.Cursor() + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Untake(%d) with head %d and read %d did not panic", p, q.head, q.read)
				}
			}()
			q.Untake(p)
		}()
	}
}
