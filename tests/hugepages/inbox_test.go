package hugepages

import (
	"errors"
	"strings"
	"testing"

	"mvirt-net/reactor/hugepage"
	"mvirt-net/reactor/inbox"
)

// TestInboxGivesPagesBackAtClose: an inbox on huge pages takes its page
// from the pool and gives it back at Close, while a slot reserved before
// Close stays writable.
func TestInboxGivesPagesBackAtClose(t *testing.T) {
	before := readPool(t)
	setPool(t, before.total+1)
	idle := readPool(t)
	q, err := inbox.New(inbox.Config{Hugepages: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := readPool(t).free; !q.OnHugepages() || got != idle.free-1 {
		t.Fatalf("inbox on huge pages %v, HugePages_Free %d; want true, %d", q.OnHugepages(), got, idle.free-1)
	}
	s, ok := q.Reserve(1500)
	if !ok {
		t.Fatal("Reserve refused")
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readPool(t).free; got != idle.free {
		t.Fatalf("HugePages_Free %d after Close, want %d", got, idle.free)
	}
	b := s.Bytes()
	for i := range b {
		b[i] = byte(i)
	}
	s.Commit()
	if q.Put(make([]byte, 1500)) || q.Drops(inbox.DropClosed) != 1 {
		t.Fatalf("Put after Close: accepted or not counted (%d closed drops)", q.Drops(inbox.DropClosed))
	}
}

// TestInboxWithoutPages: New on huge pages from a short pool fails with
// the number of pages and the command that provides them.
func TestInboxWithoutPages(t *testing.T) {
	setPool(t, 0)
	_, err := inbox.New(inbox.Config{Hugepages: true})
	if err == nil || !strings.Contains(err.Error(), "echo 1 > /proc/sys/vm/nr_hugepages") || !errors.Is(err, hugepage.ErrNoPages) {
		t.Fatalf("New on huge pages with none: %v, want ErrNoPages with the command", err)
	}
}
