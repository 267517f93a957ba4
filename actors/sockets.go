package actors

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"mvirt-net/persistence"
)

// nicSocketPath is where the NIC id listens: <socket dir>/<id>.sock.
func nicSocketPath(dir, id string) string { return filepath.Join(dir, id+".sock") }

// isNicSocketName reports whether a file name is one nicSocketPath makes:
// a UUID in its canonical (lower-case) form, then ".sock".
func isNicSocketName(name string) bool {
	id, ok := strings.CutSuffix(name, ".sock")
	if !ok {
		return false
	}
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

// sweepSockets removes the sockets in dir that are named like a NIC's and
// belong to no stored NIC, such as those a crash between making a NIC's
// socket and storing the NIC leaves. Any other file is left alone.
func sweepSockets(dir string, snap *persistence.Snapshot, log *slog.Logger) error {
	keep := map[string]bool{}
	for _, nics := range snap.Nics {
		for _, n := range nics {
			keep[filepath.Clean(n.SocketPath)] = true
		}
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list socket dir %s: %w", dir, err)
	}
	for _, e := range ents {
		path := filepath.Join(dir, e.Name())
		if e.Type()&fs.ModeSocket == 0 || !isNicSocketName(e.Name()) || keep[path] {
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stray nic socket: %w", err)
		}
		log.Info("removed a nic socket that belongs to no nic", "path", path)
	}
	return nil
}
