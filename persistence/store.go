package persistence

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// SchemaVersion is the version of the key layout this code reads and writes.
const SchemaVersion = "1"

var keySchemaVersion = []byte("schema/version")

// ErrConflict is returned when a change would take a name or an address that
// another object already holds.
var ErrConflict = errors.New("conflicts with an existing object")

// ErrNotFound is returned when a change refers to an object that is not stored.
var ErrNotFound = errors.New("not found")

// Store is the Badger-backed metadata store. It is safe for concurrent use.
type Store struct {
	db  *badger.DB
	log *slog.Logger
	// stopCompact, closed by Close, stops compactLoop, which then closes
	// compactDone.
	stopCompact chan struct{}
	compactDone chan struct{}
}

// Open opens (creating if needed) the store in dir. A directory locked by
// another process, or a corrupted or foreign database, is an error: the
// daemon must never start on half of its state.
func Open(dir string, log *slog.Logger) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create metadata dir %s: %w", dir, err)
	}
	opts := badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithLogger(badgerLogger{log}).
		WithMemTableSize(8 << 20).
		// A control plane's few kilobytes need no compression and no
		// caches, whose housekeeping goroutines would wake an idle daemon.
		WithCompression(options.None).
		WithBlockCacheSize(0).
		WithIndexCacheSize(0).
		WithValueLogFileSize(64 << 20).
		WithNumVersionsToKeep(1).
		// No Badger compactors: each would wake 20 times a second even when
		// idle, most of an idle daemon's CPU. Without them level 0 would only
		// grow until writes stall at NumLevelZeroTablesStall, so the store
		// compacts it itself, rarely (compactLoop). Flatten treats a tree
		// whose only data is in level 0 as flat unless level 0 holds more than
		// NumLevelZeroTables tables, hence that limit sits just below ours.
		WithNumCompactors(0).
		WithNumLevelZeroTables(compactL0Tables - 1)
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open metadata store %s (is another mvirt-net running on it, or is it damaged?): %w", dir, err)
	}
	s := &Store{db: db, log: log, stopCompact: make(chan struct{}), compactDone: make(chan struct{})}
	if err := s.checkSchema(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("metadata store %s: %w", dir, err)
	}
	go s.compactLoop()
	return s, nil
}

// Close stops the store's compaction, waiting for one in progress, then
// flushes and closes the database. Call it once.
func (s *Store) Close() error {
	close(s.stopCompact)
	<-s.compactDone
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close metadata store: %w", err)
	}
	return nil
}

// checkSchema stamps an empty store with SchemaVersion and refuses a store
// written by another schema.
func (s *Store) checkSchema() error {
	return s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(keySchemaVersion)
		if errors.Is(err, badger.ErrKeyNotFound) {
			if !isEmpty(txn) {
				return errors.New("data without a schema version: not an mvirt-net store")
			}
			return txn.Set(keySchemaVersion, []byte(SchemaVersion))
		}
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if string(v) != SchemaVersion {
			return fmt.Errorf("schema version %q, this mvirt-net reads %q", v, SchemaVersion)
		}
		return nil
	})
}

func isEmpty(txn *badger.Txn) bool {
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
	defer it.Close()
	it.Rewind()
	return !it.Valid()
}

// update runs fn in a read-write transaction, retrying when Badger reports a
// conflict with a concurrent transaction.
func (s *Store) update(fn func(txn *badger.Txn) error) error {
	var err error
	for range 10 {
		err = s.db.Update(fn)
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("transaction kept conflicting: %w", err)
}

func getJSON(txn *badger.Txn, key []byte, v any) error {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	return item.Value(func(b []byte) error {
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		return nil
	})
}

func setJSON(txn *badger.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return txn.Set(key, b)
}

// claim sets an index key to owner unless another owner holds it.
func claim(txn *badger.Txn, key []byte, owner string) error {
	item, err := txn.Get(key)
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return txn.Set(key, []byte(owner))
	case err != nil:
		return fmt.Errorf("get %s: %w", key, err)
	}
	held, err := item.ValueCopy(nil)
	if err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	if string(held) != owner {
		return fmt.Errorf("%s: %w", key, ErrConflict)
	}
	return nil
}

// absent checks that no object is stored under key: a taken id is
// ErrConflict.
func absent(txn *badger.Txn, key []byte) error {
	_, err := txn.Get(key)
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("get %s: %w", key, err)
	}
	return fmt.Errorf("%s: %w", key, ErrConflict)
}

// badgerLogger sends Badger's own log lines to slog; its chatty info lines
// go to debug.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any) {
	l.log.Error(fmt.Sprintf(f, a...), "component", "badger")
}
func (l badgerLogger) Warningf(f string, a ...any) {
	l.log.Warn(fmt.Sprintf(f, a...), "component", "badger")
}
func (l badgerLogger) Infof(f string, a ...any) {
	l.log.Debug(fmt.Sprintf(f, a...), "component", "badger")
}
func (l badgerLogger) Debugf(f string, a ...any) {
	l.log.Debug(fmt.Sprintf(f, a...), "component", "badger")
}
