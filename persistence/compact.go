package persistence

import (
	"fmt"
	"time"
)

// compactInterval is how often the store looks at Badger's level 0. Badger's
// own compactors look 20 times a second, which is most of an idle daemon's
// CPU; the store fills its memtable rarely, so once a minute is ample.
const compactInterval = time.Minute

// compactL0Tables is the number of level-0 tables at which the store
// compacts: Badger's default NumLevelZeroTables, where its own compactors
// would start on level 0. Writes stall at NumLevelZeroTablesStall (Badger's
// default, 15) until level 0 shrinks; reaching it would take ten more
// memtables written within one compactInterval, and even then the stall
// lasts at most until the next compaction.
const compactL0Tables = 5

// compactLoop runs compactIfNeeded every compactInterval until stopCompact
// is closed, then closes compactDone.
func (s *Store) compactLoop() {
	defer close(s.compactDone)
	t := time.NewTicker(compactInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopCompact:
			return
		case <-t.C:
			if err := s.compactIfNeeded(); err != nil {
				s.log.Warn("compact metadata store", "err", err)
			}
		}
	}
}

// compactIfNeeded merges level 0 into the lower levels once it holds
// compactL0Tables tables. Badger runs no compactors of its own here (see
// Open), so nothing else moves data down: Flatten, on the calling goroutine,
// merges level 0 and any other non-empty level into one. A read-only store
// is not compacted, nor one whose disk has no room for the merged tables.
func (s *Store) compactIfNeeded() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.roCopy != nil {
		return nil
	}
	before := s.db.Levels()[0].NumTables
	if before < compactL0Tables {
		return nil
	}
	if err := s.space.canCompact(); err != nil {
		return fmt.Errorf("compact %d level-0 tables: %w", before, err)
	}
	if err := s.db.Flatten(1); err != nil {
		return fmt.Errorf("flatten %d level-0 tables: %w", before, err)
	}
	s.log.Info("compacted metadata store", "level0_tables_before", before, "level0_tables_after", s.db.Levels()[0].NumTables)
	return nil
}
