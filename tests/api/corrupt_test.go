package api_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mvirt-net/tests/daemon"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestCorruptedMetadataDirRefused damages the store's files: the daemon must
// exit with a clear message instead of starting half-empty.
func TestCorruptedMetadataDirRefused(t *testing.T) {
	dirs := daemon.NewDirs(t)
	d := daemon.Start(t, dirs)
	mustNetwork(t, d.Client, dual("prod"))
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dirs.MetadataDir, "MANIFEST"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no MANIFEST in %s: %v", dirs.MetadataDir, err)
	}
	if err := os.WriteFile(files[0], []byte("this is not a badger manifest"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = daemon.TryStart(t, dirs)
	if err == nil {
		t.Fatal("daemon started on a corrupted metadata dir")
	}
	if !contains(err.Error(), "open metadata store") {
		t.Fatalf("unclear error: %v", err)
	}
}
