package persistence

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// TestCompactLevelZero fills level 0 with flushed memtables, compacts it and
// checks that every key keeps its newest value, before and after a reopen.
func TestCompactLevelZero(t *testing.T) {
	const (
		keys      = 300      // distinct keys, rewritten round-robin
		valueSize = 64 << 10 // small enough to stay in the LSM tree, not the value log
		perTxn    = 8        // well under Badger's batch limit of 15 % of the memtable
		maxWrites = 4000     // 250 MiB: give up rather than write forever
	)
	key := func(i int) []byte { return fmt.Appendf(nil, "test/%05d", i%keys) }
	value := func(i int) []byte {
		return bytes.Repeat(fmt.Appendf(nil, "%08d", i), valueSize/8)
	}

	dir := t.TempDir()
	var logs bytes.Buffer
	s, err := Open(dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	level0 := func() int { return s.db.Levels()[0].NumTables }

	written := 0
	for level0() < compactL0Tables {
		if written >= maxWrites {
			t.Fatalf("level 0 holds %d tables after %d writes", level0(), written)
		}
		err := s.db.Update(func(txn *badger.Txn) error {
			for i := written; i < written+perTxn; i++ {
				if err := txn.Set(key(i), value(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		written += perTxn
	}

	before := level0()
	if err := s.compactIfNeeded(); err != nil {
		t.Fatal(err)
	}
	if after := level0(); after >= compactL0Tables {
		t.Fatalf("level 0 holds %d tables after compacting %d", after, before)
	}
	checkValues := func() {
		t.Helper()
		err := s.db.View(func(txn *badger.Txn) error {
			for i := max(0, written-keys); i < written; i++ {
				item, err := txn.Get(key(i))
				if err != nil {
					return fmt.Errorf("get %s: %w", key(i), err)
				}
				v, err := item.ValueCopy(nil)
				if err != nil {
					return fmt.Errorf("read %s: %w", key(i), err)
				}
				if !bytes.Equal(v, value(i)) {
					return fmt.Errorf("%s holds %.8s…, want %.8s…", key(i), v, value(i))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	checkValues()

	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5s")
	}
	if !strings.Contains(logs.String(), "compacted metadata store") {
		t.Errorf("no compaction logged:\n%s", logs.String())
	}

	s = open(t, dir)
	defer s.Close()
	checkValues()
}
