package persistence

import (
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTripAndIndexes(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	now := time.Now().UTC()
	n := &NetworkRecord{ID: "n1", Name: "prod", IPv4Subnet: netip.MustParsePrefix("10.0.0.0/24"), CreatedAt: now, UpdatedAt: now}
	if err := s.CreateNetwork(n); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateNetwork(&NetworkRecord{ID: "n2", Name: "prod", IPv4Subnet: netip.MustParsePrefix("10.1.0.0/24")}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate network name: %v", err)
	}
	a := &NicRecord{ID: "a", Name: "vm", NetworkID: "n1", MAC: mac("52:54:00:00:00:01"), IPv4Address: netip.MustParseAddr("10.0.0.1"), SocketPath: "/s/a.sock"}
	if err := s.PutNic(a, nil); err != nil {
		t.Fatal(err)
	}
	clash := &NicRecord{ID: "b", NetworkID: "n1", MAC: mac("52:54:00:00:00:02"), IPv4Address: netip.MustParseAddr("10.0.0.1"), SocketPath: "/s/b.sock"}
	if err := s.PutNic(clash, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("address claimed twice: %v", err)
	}
	named := &NicRecord{ID: "c", Name: "vm", NetworkID: "n1", MAC: mac("52:54:00:00:00:03"), SocketPath: "/s/c.sock"}
	if err := s.PutNic(named, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("nic name claimed twice: %v", err)
	}
	moved := *a
	moved.IPv4Address = netip.MustParseAddr("10.0.0.9")
	if err := s.PutNic(&moved, a); err != nil {
		t.Fatal(err)
	}
	clash.IPv4Address = netip.MustParseAddr("10.0.0.1")
	if err := s.PutNic(clash, nil); err != nil {
		t.Fatalf("released address not claimable: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, dir)
	defer s.Close()
	snap, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Networks) != 1 || len(snap.Nics["n1"]) != 2 {
		t.Fatalf("loaded %+v", snap)
	}
	if err := s.DeleteNetwork(n); err != nil {
		t.Fatal(err)
	}
	snap, err = s.Load()
	if err != nil || len(snap.Networks) != 0 || len(snap.Nics) != 0 {
		t.Fatalf("after delete: %+v %v", snap, err)
	}
	if err := s.CreateNetwork(&NetworkRecord{ID: "n3", Name: "prod", IPv4Subnet: netip.MustParsePrefix("10.0.0.0/24")}); err != nil {
		t.Fatalf("deleted network name not free: %v", err)
	}
}

func TestOpenRefusesLockedDir(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	if _, err := Open(dir, quiet()); err == nil {
		t.Fatal("second Open of a locked dir succeeded")
	}
}

func TestOpenRefusesOtherSchema(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(keySchemaVersion, []byte("99")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, quiet()); err == nil {
		t.Fatal("store with schema 99 opened")
	}
}

func TestLoadRefusesOrphanNic(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	// Written past PutNic, which refuses a NIC of a missing network.
	if err := s.update(func(txn *writeTxn) error {
		return setJSON(txn, nicKey("a"), &NicRecord{ID: "a", NetworkID: "gone", MAC: mac("52:54:00:00:00:01"), SocketPath: "/s"})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); err == nil {
		t.Fatal("nic of a missing network loaded")
	}
}

// A create whose write comes after its network's delete must not leave a
// NIC without a network (a store that Load then refuses).
func TestPutNicOfMissingNetwork(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	err := s.PutNic(&NicRecord{ID: "a", NetworkID: "gone", MAC: mac("52:54:00:00:00:01"), SocketPath: "/s"}, nil)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("PutNic of a missing network: %v, want ErrNotFound", err)
	}
	if _, err := s.Load(); err != nil {
		t.Fatalf("load after the refused nic: %v", err)
	}
}

func TestOpenRefusesCorruptManifest(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, quiet()); err == nil {
		t.Fatal("corrupt store opened")
	}
}
