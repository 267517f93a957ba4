package persistence

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// ErrNoSpace is returned when a change is refused because the metadata
// disk has too little free space to take it safely. Nothing was written.
var ErrNoSpace = errors.New("metadata store is out of space")

// spaceMargin is free space the store always leaves beyond what its own
// files may still need: the headers of a new write-ahead log and value log
// at a memtable rotation or an open, MANIFEST and LOCK writes, and the index
// and bloom filter of the tables a flush or a compaction writes.
const spaceMargin = 1 << 20

// entryOverhead bounds what Badger adds to a key and value, in its
// write-ahead log (header, version, checksum) and again in a table (block
// index, bloom filter bits).
const entryOverhead = 64

// spaceGuard admits writes only while the disk keeps room for everything
// Badger may later write on its own. Badger writes its write-ahead log,
// and the tables a memtable flush or a compaction produces, through memory
// maps; a page it cannot get on a full disk is a SIGBUS that kills the
// daemon, not an error. So before each commit the guard asks statfs for the
// free space and requires
//
//	free ≥ wal + tables + 2·(pending + write) + spaceMargin
//
// wal is what the write-ahead logs hold (each becomes a table when its
// memtable is flushed, before the log is deleted), tables is what the
// tables hold (a compaction writes their merge before deleting them),
// pending is what admitted commits still in flight will add, and the write
// counts twice: once in the log, once in the table it is flushed to.
// Writes of other processes to the same disk between the check and the
// write are not covered.
type spaceGuard struct {
	dir string
	mu  sync.Mutex
	// pending is what admitted, unfinished commits will write.
	pending int64
}

// usage is what the guard measures of the disk and the store's files.
type usage struct {
	free int64
	// block is the file system's block size.
	block  int64
	wal    int64
	tables int64
}

func (g *spaceGuard) measure() (usage, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(g.dir, &st); err != nil {
		return usage{}, fmt.Errorf("statfs %s: %w", g.dir, err)
	}
	u := usage{free: int64(st.Bavail) * st.Bsize, block: st.Bsize}
	ents, err := os.ReadDir(g.dir)
	if err != nil {
		return usage{}, fmt.Errorf("list %s: %w", g.dir, err)
	}
	for _, e := range ents {
		ext := filepath.Ext(e.Name())
		if ext != ".mem" && ext != ".sst" {
			continue
		}
		var fst unix.Stat_t
		if err := unix.Lstat(filepath.Join(g.dir, e.Name()), &fst); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // flushed or compacted away meanwhile
			}
			return usage{}, fmt.Errorf("stat %s: %w", e.Name(), err)
		}
		// Allocated blocks, not the length: Badger sizes its logs
		// sparsely, far beyond what they hold.
		if ext == ".mem" {
			u.wal += fst.Blocks * 512
		} else {
			u.tables += fst.Blocks * 512
		}
	}
	return u, nil
}

// admit reserves room for a commit of size bytes, or refuses it with
// ErrNoSpace. The caller calls the returned release once the commit is
// done, whatever its outcome. A commit counts as whole blocks (a synced
// write of a few bytes dirties a block), so on a disk that refuses one
// small change every change smaller than a block is refused too.
func (g *spaceGuard) admit(size int64) (release func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	u, err := g.measure()
	if err != nil {
		return nil, err
	}
	size = (size + u.block - 1) / u.block * u.block
	need := u.wal + u.tables + 2*(g.pending+size) + spaceMargin
	if u.free < need {
		return nil, fmt.Errorf("%w: %s free on %s, %s needed to write %d bytes safely; free space or grow the disk",
			ErrNoSpace, mib(u.free), g.dir, mib(need), size)
	}
	g.pending += size
	return func() {
		g.mu.Lock()
		g.pending -= size
		g.mu.Unlock()
	}, nil
}

// canFlush says whether the disk has room for Badger to flush every
// write-ahead log into a table, as it does when it opens a store for
// writing and when it closes one.
func (g *spaceGuard) canFlush() error {
	u, err := g.measure()
	if err != nil {
		return err
	}
	if need := u.wal + spaceMargin; u.free < need {
		return fmt.Errorf("%w: %s free on %s, %s needed to flush the write-ahead log",
			ErrNoSpace, mib(u.free), g.dir, mib(need))
	}
	return nil
}

// canCompact says whether the disk has room for a compaction to write the
// merge of every table (and a flush beside it) before deleting them.
func (g *spaceGuard) canCompact() error {
	u, err := g.measure()
	if err != nil {
		return err
	}
	if need := u.wal + u.tables + spaceMargin; u.free < need {
		return fmt.Errorf("%w: %s free on %s, %s needed to compact",
			ErrNoSpace, mib(u.free), g.dir, mib(need))
	}
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
