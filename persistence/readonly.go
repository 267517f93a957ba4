package persistence

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/sys/unix"
)

// readOnlyCopy is how the store serves a metadata disk too full for Badger
// to open. Badger opens a store for writing only: its read-only mode refuses
// a write-ahead log that was not closed cleanly, and reading such a log
// through its memory map faults (SIGBUS) on a full tmpfs, which must
// allocate a page to read a hole. So the store copies its files (with
// plain reads, which need no page) to a scratch directory in memory, opens
// the copy, and refuses every change. A lock on the real directory keeps
// another mvirt-net off it meanwhile; Badger takes the same lock.
type readOnlyCopy struct {
	dir  string
	lock *os.File
}

// openCopy locks dir, copies it and opens the copy.
func openCopy(dir string, log *slog.Logger) (*badger.DB, *readOnlyCopy, error) {
	lock, err := os.Open(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("open metadata dir %s: %w", dir, err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = lock.Close()
		return nil, nil, fmt.Errorf("lock metadata dir %s (is another mvirt-net running on it?): %w", dir, err)
	}
	c := &readOnlyCopy{lock: lock, dir: copyDir(dir)}
	// A copy left by a daemon that was killed while serving one is stale:
	// this store's lock is held, so nothing else uses it.
	if err := os.RemoveAll(c.dir); err != nil {
		_ = c.close()
		return nil, nil, fmt.Errorf("remove stale read-only copy: %w", err)
	}
	if err := os.Mkdir(c.dir, 0o700); err != nil {
		_ = c.close()
		return nil, nil, fmt.Errorf("scratch dir for a read-only copy: %w", err)
	}
	if err := copyFiles(dir, c.dir); err != nil {
		_ = c.close()
		return nil, nil, fmt.Errorf("copy metadata store %s to %s: %w", dir, c.dir, err)
	}
	db, err := openBadger(c.dir, log)
	if err != nil {
		_ = c.close()
		return nil, nil, err
	}
	return db, c, nil
}

// copyDir is where the read-only copy of the store in dir goes: in shared
// memory if the system has it, else in the temp dir, named after dir so
// that there is at most one per store.
func copyDir(dir string) string {
	root := os.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		root = "/dev/shm"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(root, "mvirt-net-readonly-"+hex.EncodeToString(sum[:8]))
}

// close removes the copy and unlocks the real directory. The copy's
// database must be closed first.
func (c *readOnlyCopy) close() error {
	var errs []error
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove read-only copy: %w", err))
	}
	if err := c.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("unlock metadata dir: %w", err))
	}
	return errors.Join(errs...)
}

// copyFiles copies every regular file of src into dst.
func copyFiles(src, dst string) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("close %s: %w", dst, err)
	}
	return nil
}
