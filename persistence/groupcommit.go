package persistence

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// maxGroup bounds how many changes share one commit.
const maxGroup = 256

// maxConflictRetries is how often a group is retried when Badger reports
// a conflict with a transaction outside the group.
const maxConflictRetries = 10

// ErrClosed is returned for a change asked of a closed store.
var ErrClosed = errors.New("metadata store is closed")

// change is one caller's read-write transaction body, waiting for its
// group's commit.
type change struct {
	fn   func(txn *writeTxn) error
	done chan error
}

// update runs fn as part of the next group commit and returns once the
// group is durable (or fn's own error, or ErrNoSpace when the disk has no
// room for the group). Changes asked for concurrently share one Badger
// transaction and so one synced write: Badger syncs its write-ahead log
// once per transaction, so a commit per change would cost a sync per
// change. Within a group the changes apply in order, each seeing the ones
// before it, as if they had run one after another.
func (s *Store) update(fn func(txn *writeTxn) error) error {
	if err := s.writable(); err != nil {
		return err
	}
	c := &change{fn: fn, done: make(chan error, 1)}
	select {
	case s.changes <- c:
	case <-s.writerDone:
		return ErrClosed
	}
	return <-c.done
}

// writeLoop gathers the changes waiting when it is free into a group and
// commits it, until Close stops it.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	var next []*change
	for {
		if len(next) == 0 {
			select {
			case c := <-s.changes:
				next = append(next, c)
			case <-s.stopWriter:
				return
			}
		}
		group := next
	fill:
		for len(group) < maxGroup {
			select {
			case c := <-s.changes:
				group = append(group, c)
			default:
				break fill
			}
		}
		next = s.commitGroup(group)
	}
}

// commitGroup applies group in one transaction and commits it, answering
// every change it holds. A change that fails answers its own error and
// the group is applied again without it (its partial writes die with the
// discarded transaction). When the transaction grows too big, the changes
// that did not fit are returned, for the next group.
func (s *Store) commitGroup(group []*change) (rest []*change) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	conflicts := 0
	for len(group) > 0 {
		txn := &writeTxn{Txn: s.db.NewTransaction(true)}
		failed, err := apply(txn, group)
		if failed >= 0 {
			txn.Discard()
			if errors.Is(err, badger.ErrTxnTooBig) && failed > 0 {
				group, rest = group[:failed], append(group[failed:], rest...)
				continue
			}
			group[failed].done <- err
			group = append(group[:failed:failed], group[failed+1:]...)
			continue
		}
		err = s.commit(txn)
		if errors.Is(err, badger.ErrConflict) && conflicts < maxConflictRetries {
			conflicts++
			continue
		}
		if errors.Is(err, badger.ErrConflict) {
			err = fmt.Errorf("transaction kept conflicting: %w", err)
		}
		for _, c := range group {
			c.done <- err
		}
		return rest
	}
	return rest
}

// commit commits txn if the disk has room for it (else ErrNoSpace) and
// discards it either way.
func (s *Store) commit(txn *writeTxn) error {
	defer txn.Discard()
	release, err := s.space.admit(txn.size)
	if err != nil {
		return err
	}
	defer release()
	if err := txn.Commit(); err != nil {
		return err
	}
	s.dirty.Store(true)
	return nil
}

// apply runs every change of group in txn and returns the index of the
// first that failed, with its error, or -1.
func apply(txn *writeTxn, group []*change) (int, error) {
	for i, c := range group {
		if err := c.fn(txn); err != nil {
			return i, err
		}
	}
	return -1, nil
}
