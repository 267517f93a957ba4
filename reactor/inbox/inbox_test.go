package inbox

import (
	"bytes"
	"errors"
	"testing"
	"unsafe"
)

func newInbox(t testing.TB, cfg Config) *Inbox {
	t.Helper()
	q, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := q.Close(); err != nil {
			t.Error(err)
		}
	})
	return q
}

// pattern returns a frame of n bytes that differs from the frames of other
// lengths and seeds.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

// TestRoundTrip sends frames of every interesting length, repeatedly, so
// that multi-slot frames wrap past the end of the ring.
func TestRoundTrip(t *testing.T) {
	q := newInbox(t, Config{Slots: 16, MaxFrame: 9014})
	sizes := []int{1, 60, 1514, SlotSize, SlotSize + 1, 3 * SlotSize, 9014}
	for round := range 20 {
		for i, n := range sizes {
			want := pattern(n, byte(round*len(sizes)+i))
			if !q.Put(want) {
				t.Fatalf("round %d: Put(%d bytes) refused", round, n)
			}
			fr, ok := next(q)
			got := fr.Head
			if !ok || !bytes.Equal(got, want) {
				t.Fatalf("round %d: frame of %d bytes: got %d bytes, %v", round, n, len(got), ok)
			}
			if cap(got) != n {
				t.Fatalf("view of %d bytes has capacity %d past the frame", n, cap(got))
			}
			q.Release()
		}
	}
	if _, ok := next(q); ok {
		t.Error("frame left over")
	}
}

func TestBatchReleaseInOrder(t *testing.T) {
	q := newInbox(t, Config{Slots: 16, MaxFrame: 4 * SlotSize})
	for i := range 5 {
		if !q.Put(pattern(100+i*SlotSize/2, byte(i))) {
			t.Fatalf("Put %d refused", i)
		}
	}
	var got [][]byte
	for {
		fr, ok := next(q)
		f := fr.Head
		if !ok {
			break
		}
		got = append(got, f)
	}
	if len(got) != 5 {
		t.Fatalf("took %d frames, want 5", len(got))
	}
	for i, f := range got {
		if !bytes.Equal(f, pattern(100+i*SlotSize/2, byte(i))) {
			t.Errorf("frame %d differs", i)
		}
	}
	q.Release()
	if !q.Put(pattern(4*SlotSize, 9)) {
		t.Error("released room not reusable")
	}
}

// TestFullDropsAndCounts fills the ring: the producer is refused at once,
// the drop is counted, and room returns with Release.
func TestFullDropsAndCounts(t *testing.T) {
	q := newInbox(t, Config{Slots: 4, MaxFrame: 2 * SlotSize})
	for i := range 3 {
		if !q.Put(pattern(64, byte(i))) {
			t.Fatalf("Put %d refused", i)
		}
	}
	if q.Put(pattern(2*SlotSize, 0)) {
		t.Fatal("two-slot frame fit in one free slot")
	}
	if !q.Put(pattern(64, 3)) {
		t.Fatal("last slot refused")
	}
	if q.Put(pattern(64, 4)) {
		t.Fatal("Put into a full ring accepted")
	}
	if d := q.Drops(DropFull); d != 2 {
		t.Errorf("DropFull = %d, want 2", d)
	}
	if _, ok := next(q); !ok {
		t.Fatal("no frame")
	}
	if q.Put(pattern(64, 5)) {
		t.Fatal("taken but unreleased slot reused")
	}
	q.Release()
	if !q.Put(pattern(64, 6)) {
		t.Fatal("released slot refused")
	}
}

func TestTooBig(t *testing.T) {
	q := newInbox(t, Config{Slots: 4, MaxFrame: 1514})
	if q.Put(make([]byte, 1515)) || q.Put(nil) {
		t.Fatal("frame outside 1..MaxFrame accepted")
	}
	if d := q.Drops(DropTooBig); d != 2 {
		t.Errorf("DropTooBig = %d, want 2", d)
	}
	if q.MaxFrame() != 1514 {
		t.Errorf("MaxFrame = %d", q.MaxFrame())
	}
}

// TestReserveCommitCancel: a producer may edit the frame in its slot
// before committing; a cancelled slot is skipped; frames behind an
// unfinished reservation wait for it.
func TestReserveCommitCancel(t *testing.T) {
	q := newInbox(t, Config{Slots: 8, MaxFrame: 3 * SlotSize})
	first, ok := q.Reserve(3 * SlotSize)
	if !ok {
		t.Fatal("Reserve refused")
	}
	if !q.Put([]byte("second")) {
		t.Fatal("Put refused")
	}
	if _, ok := next(q); ok {
		t.Fatal("frame taken past an uncommitted reservation")
	}
	first.Cancel()
	third, _ := q.Reserve(5)
	copy(third.Bytes(), "thirX")
	third.Bytes()[4] = 'd'
	third.Commit()
	for _, want := range []string{"second", "third"} {
		fr, ok := next(q)
		f := fr.Head
		if !ok || string(f) != want {
			t.Fatalf("got %q, %v; want %q", f, ok, want)
		}
	}
	q.Release()
	if d := q.Drops(DropCancelled); d != 1 {
		t.Errorf("DropCancelled = %d, want 1", d)
	}
	var empty Slot
	empty.Cancel()
}

func TestClose(t *testing.T) {
	q, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	held, _ := q.Reserve(64)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if q.Put(pattern(64, 0)) {
		t.Error("Put after Close accepted")
	}
	held.Commit() // a producer that reserved before Close finishes safely
	q.Flush()
	if d := q.Drops(DropClosed); d != 1 {
		t.Errorf("DropClosed = %d, want 1", d)
	}
	if q.Doorbell() != -1 {
		t.Error("closed inbox still reports a doorbell")
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []Config{{Slots: 3}, {Slots: 1}, {Slots: -4}, {Slots: 4, MaxFrame: 4*SlotSize + 1}, {MaxFrame: -1}} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", c, err)
		}
	}
	q := newInbox(t, Config{})
	if len(q.meta) != DefaultSlots || q.maxFrame != DefaultMaxFrame {
		t.Errorf("defaults: %d slots, max frame %d", len(q.meta), q.maxFrame)
	}
	if DropFull.String() != "full" || NumDropReasons.String() != "unknown" {
		t.Error("drop reason names")
	}
}

// TestAttachedTail: a frame whose tail stays outside the ring arrives as
// head, tail pieces (uncopied) and header; its position counts as
// released only once the consumer released it, stays so when the slot is
// reused, and a closed inbox releases what it still held.
func TestAttachedTail(t *testing.T) {
	q := newInbox(t, Config{Slots: 4, MaxFrame: 256})
	head := pattern(64, 1)
	tail := [][]byte{pattern(1400, 2), pattern(4096, 3), pattern(7, 4)}
	hdr := Header{1, 4, 86, 0, 0x5a, 0x05, 0x36, 0, 0x10, 0}
	s, ok := q.Reserve(len(head))
	if !ok {
		t.Fatal("reservation refused")
	}
	copy(s.Bytes(), head)
	s.Attach(tail)
	s.SetHeader(hdr)
	pos := s.Pos()
	s.Commit()
	if q.Released(pos) {
		t.Fatal("released before the consumer took it")
	}
	f, ok := next(q)
	if !ok || !bytes.Equal(f.Head, head) || len(f.Tail) != len(tail) || f.Hdr != hdr || f.Len() != 64+1400+4096+7 {
		t.Fatalf("got head %d bytes, %d tail pieces, header %x", len(f.Head), len(f.Tail), f.Hdr)
	}
	for i := range tail {
		if &f.Tail[i][0] != &tail[i][0] || len(f.Tail[i]) != len(tail[i]) {
			t.Fatalf("tail piece %d is not the attached memory", i)
		}
	}
	if q.Released(pos) {
		t.Fatal("released while the consumer still reads it")
	}
	q.Release()
	if !q.Released(pos) {
		t.Fatal("not released after Release")
	}
	for range 9 {
		if !q.Put(head) {
			t.Fatal("Put refused")
		}
		if f, ok := next(q); !ok || f.Tail != nil || f.Hdr != (Header{}) {
			t.Fatalf("plain frame: ok %v, %d tail pieces, header %x", ok, len(f.Tail), f.Hdr)
		}
		q.Release()
	}
	if !q.Released(pos) {
		t.Fatal("released position forgotten when its slot was reused")
	}
	s, _ = q.Reserve(len(head))
	s.Attach(tail)
	pos = s.Pos()
	s.Commit()
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if !q.Released(pos) {
		t.Fatal("a closed inbox still holds a tail")
	}
}

// TestTailInOnePiece: a tail in one piece arrives as that piece, kept in
// the slot itself (the producer's list may change at once); a reservation
// cancelled after Attach and SetHeader leaves nothing of them to the
// frames after it in the same slots.
func TestTailInOnePiece(t *testing.T) {
	q := newInbox(t, Config{Slots: 2, MaxFrame: 256})
	head, piece := pattern(40, 1), pattern(1400, 2)
	list := [][]byte{piece}
	s, _ := q.Reserve(len(head))
	copy(s.Bytes(), head)
	s.Attach(list)
	list[0] = nil
	s.Commit()
	f, ok := next(q)
	if !ok || len(f.Tail) != 1 || &f.Tail[0][0] != &piece[0] || len(f.Tail[0]) != len(piece) || f.Hdr != (Header{}) {
		t.Fatalf("got ok %v, %d tail pieces, header %x", ok, len(f.Tail), f.Hdr)
	}
	q.Release()
	for range 2 {
		s, _ := q.Reserve(len(head))
		s.Attach([][]byte{piece, piece})
		s.SetHeader(Header{1})
		s.Cancel()
	}
	if _, ok := next(q); ok {
		t.Fatal("a cancelled reservation taken")
	}
	q.Release()
	for range 2 {
		if !q.Put(head) {
			t.Fatal("Put refused")
		}
		if f, ok := next(q); !ok || f.Tail != nil || f.Hdr != (Header{}) {
			t.Fatalf("after a cancelled slot: ok %v, %d tail pieces, header %x", ok, len(f.Tail), f.Hdr)
		}
		q.Release()
	}
}

// TestSlotBookkeepingSize: a slot's bookkeeping with its frame header and
// inline bytes is two cache lines, as InlineLen is chosen for.
func TestSlotBookkeepingSize(t *testing.T) {
	if n := unsafe.Sizeof(slot{}); n != 128 {
		t.Fatalf("slot bookkeeping is %d bytes, want 128", n)
	}
}

// TestCancelAfterCommit: Commit and Cancel empty the slot, so the
// recovery path of a producer may Cancel whatever it holds: a slot
// already committed or cancelled is left alone.
func TestCancelAfterCommit(t *testing.T) {
	q := newInbox(t, Config{Slots: 8, MaxFrame: 2048})
	s, ok := q.Reserve(5)
	if !ok {
		t.Fatal("Reserve refused")
	}
	copy(s.Bytes(), "hello")
	s.Commit()
	s.Cancel()
	c, ok := q.Reserve(5)
	if !ok {
		t.Fatal("Reserve refused")
	}
	c.Cancel()
	c.Cancel()
	if f, ok := next(q); !ok || string(f.Head) != "hello" {
		t.Fatalf("got %q, %v; want the committed frame", f.Head, ok)
	}
	if _, ok := next(q); ok {
		t.Fatal("a frame after the cancelled one")
	}
	if d := q.Drops(DropCancelled); d != 1 {
		t.Errorf("DropCancelled = %d, want 1", d)
	}
}

// next is Next returning the frame, for tests.
func next(q *Inbox) (Frame, bool) {
	var f Frame
	ok := q.Next(&f)
	return f, ok
}
