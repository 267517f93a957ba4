package persistence

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

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
//
// A store opened on a disk too full for Badger to start writing is read
// only (it serves a copy, see readOnlyCopy): every change is ErrNoSpace
// until the disk has room again, when the next change reopens the real
// store for writing.
type Store struct {
	dir   string
	log   *slog.Logger
	space spaceGuard
	// mu guards db and roCopy: read-locked for every use of db,
	// write-locked to reopen it.
	mu sync.RWMutex
	db *badger.DB
	// roCopy is set while db is a read-only copy.
	roCopy *readOnlyCopy
	// dirty is set once db has taken a write since it was opened, so
	// that closing it flushes its memtable.
	dirty atomic.Bool
	// stopCompact, closed by Close, stops compactLoop, which then closes
	// compactDone.
	stopCompact chan struct{}
	compactDone chan struct{}
	// changes feed writeLoop, which groups them into commits; stopWriter,
	// closed by Close, stops it, and it then closes writerDone.
	changes    chan *change
	stopWriter chan struct{}
	writerDone chan struct{}
}

// Open opens (creating if needed) the store in dir. A directory locked by
// another process, or a corrupted or foreign database, is an error: the
// daemon must never start on half of its state. A disk too full to flush
// the write-ahead log opens the store read only.
func Open(dir string, log *slog.Logger) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create metadata dir %s: %w", dir, err)
	}
	s := &Store{
		dir: dir, log: log, space: spaceGuard{dir: dir}, stopCompact: make(chan struct{}), compactDone: make(chan struct{}),
		changes: make(chan *change), stopWriter: make(chan struct{}), writerDone: make(chan struct{}),
	}
	var err error
	switch full := s.space.canFlush(); {
	case full == nil:
		s.db, err = openBadger(dir, log)
	case errors.Is(full, ErrNoSpace):
		log.Warn("metadata disk full: serving a read-only copy of the store until it has room", "dir", dir, "err", full)
		s.db, s.roCopy, err = openCopy(dir, log)
	default:
		err = fmt.Errorf("metadata store %s: %w", dir, full)
	}
	if err != nil {
		return nil, err
	}
	go s.writeLoop()
	if err := s.checkSchema(); err != nil {
		close(s.stopWriter)
		<-s.writerDone
		_ = s.closeDB()
		return nil, fmt.Errorf("metadata store %s: %w", dir, err)
	}
	if s.roCopy == nil {
		if err := s.finishDeletes(); err != nil {
			log.Warn("unfinished network deletions left for the next start", "err", err)
		}
	}
	go s.compactLoop()
	return s, nil
}

// memTableSize is the size of Badger's memtable and so of the largest
// table a flush writes; a transaction may hold 15 % of it.
const memTableSize = 4 << 20

func openBadger(dir string, log *slog.Logger) (*badger.DB, error) {
	opts := badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithLogger(badgerLogger{log}).
		WithMemTableSize(memTableSize).
		// Every value stays in the LSM tree (a record is at most a few
		// kilobytes): the value log holds only its header, and its files
		// are the smallest Badger allows.
		WithValueThreshold(memTableSize * 15 / 100).
		WithValueLogFileSize(1 << 20).
		// A control plane's few kilobytes need no compression and no
		// caches, whose housekeeping goroutines would wake an idle daemon.
		WithCompression(options.None).
		WithBlockCacheSize(0).
		WithIndexCacheSize(0).
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
	return db, nil
}

// readOnly says whether the store is read only for want of disk space.
func (s *Store) readOnly() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.roCopy != nil
}

// Close stops the store's writer (a change asked for later is ErrClosed)
// and compaction, waiting for a commit or compaction in progress, then
// flushes and closes the database. Call it once. If the database took
// writes and the disk is too full to flush them, it is left open: its
// synced write-ahead log is replayed at the next start.
func (s *Store) Close() error {
	close(s.stopWriter)
	<-s.writerDone
	close(s.stopCompact)
	<-s.compactDone
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.roCopy == nil && s.dirty.Load() {
		if err := s.space.canFlush(); err != nil {
			s.log.Warn("metadata disk full: leaving the write-ahead log to the next start", "err", err)
			return nil
		}
	}
	return s.closeDB()
}

// closeDB closes db, and removes it if it is a read-only copy.
func (s *Store) closeDB() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close metadata store: %w", err)
	}
	if s.roCopy != nil {
		err := s.roCopy.close()
		s.roCopy = nil
		return err
	}
	return nil
}

// checkSchema stamps an empty store with SchemaVersion and refuses a store
// written by another schema.
func (s *Store) checkSchema() error {
	var v []byte
	empty := false
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(keySchemaVersion)
		if errors.Is(err, badger.ErrKeyNotFound) {
			empty = isEmpty(txn)
			return nil
		}
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if v, err = item.ValueCopy(nil); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		return nil
	})
	switch {
	case err != nil:
		return err
	case v == nil && !empty:
		return errors.New("data without a schema version: not an mvirt-net store")
	case v == nil && s.roCopy != nil:
		return fmt.Errorf("%w: cannot create a store", ErrNoSpace)
	case v == nil:
		return s.update(func(txn *writeTxn) error { return txn.Set(keySchemaVersion, []byte(SchemaVersion)) })
	case string(v) != SchemaVersion:
		return fmt.Errorf("schema version %q, this mvirt-net reads %q", v, SchemaVersion)
	}
	return nil
}

func isEmpty(txn *badger.Txn) bool {
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
	defer it.Close()
	it.Rewind()
	return !it.Valid()
}

// view runs fn in a read-only transaction.
func (s *Store) view(fn func(txn *badger.Txn) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.View(fn)
}

// writable reopens the real store for writing, in place of a read-only
// copy, once the disk has room for Badger to start writing; until then it
// is ErrNoSpace.
func (s *Store) writable() error {
	if !s.readOnly() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.roCopy == nil {
		return nil
	}
	if err := s.space.canFlush(); err != nil {
		return err
	}
	if err := s.closeDB(); err != nil {
		return err
	}
	db, err := openBadger(s.dir, s.log)
	if err != nil {
		copyDB, c, copyErr := openCopy(s.dir, s.log)
		if copyErr != nil {
			return fmt.Errorf("reopen metadata store for writing: %w; and read only: %w", err, copyErr)
		}
		s.db, s.roCopy = copyDB, c
		return fmt.Errorf("reopen metadata store for writing: %w", err)
	}
	s.db = db
	s.dirty.Store(false)
	s.log.Info("metadata disk has room again: store writable", "dir", s.dir)
	return nil
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

func setJSON(txn *writeTxn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return txn.Set(key, b)
}

// claim sets an index key to owner unless another owner holds it.
func claim(txn *writeTxn, key []byte, owner string) error {
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
func absent(txn *writeTxn, key []byte) error {
	_, err := txn.Get(key)
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("get %s: %w", key, err)
	}
	return fmt.Errorf("%s: %w", key, ErrConflict)
}

// present fails with ErrNotFound unless key is stored.
func present(txn *writeTxn, key []byte) error {
	_, err := txn.Get(key)
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	case err != nil:
		return fmt.Errorf("get %s: %w", key, err)
	}
	return nil
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
