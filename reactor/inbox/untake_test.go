package inbox

import (
	"bytes"
	"testing"
)

// TestUntake: frames taken and then given back with Untake stay in the
// ring: Release frees only those before them, a producer sees them
// unreleased, and Next returns them again, intact and in order, a
// cancelled reservation between them skipped again.
func TestUntake(t *testing.T) {
	q := newInbox(t, Config{Slots: 16, MaxFrame: 3 * SlotSize})
	sizes := []int{60, 3 * SlotSize, 0, 1514, SlotSize + 1}
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
		s.Commit()
	}
	want := func(i int) {
		t.Helper()
		fr, ok := q.Next()
		if !ok || !bytes.Equal(fr.Head, pattern(sizes[i], byte(i))) {
			t.Fatalf("frame %d: got %d bytes, %v", i, len(fr.Head), ok)
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
	if _, ok := q.Next(); ok {
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
	q.Next()
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
