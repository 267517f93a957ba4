package api_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"mvirt-net/persistence"
	"mvirt-net/rpc/netpb"
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

// TestBadStoredRecordRefused stores NIC records whose MAC or address does
// not parse, or makes no sense, as a damaged disk or an older bug could:
// the daemon must exit non-zero naming the record and what is wrong,
// instead of serving a NIC with a zero MAC.
func TestBadStoredRecordRefused(t *testing.T) {
	cases := []struct {
		name    string
		corrupt func(t *testing.T, dir, id string)
		want    string
	}{
		{"mac does not parse", func(t *testing.T, dir, id string) {
			rewriteRaw(t, dir, "nic/"+id, `"mac":"52:54:00:`, `"mac":"52:54:zz:`)
		}, `mac "52:54:zz:`},
		{"address does not parse", func(t *testing.T, dir, id string) {
			rewriteRaw(t, dir, "nic/"+id, `"ipv4_address":"10.0.0.1"`, `"ipv4_address":"10.0.0.256"`)
		}, `ipv4_address "10.0.0.256" does not parse`},
		{"multicast mac", func(t *testing.T, dir, id string) {
			rewriteNic(t, dir, id, func(r *persistence.NicRecord) { r.MAC = net.HardwareAddr{0x01, 0, 0x5e, 0, 0, 1} })
		}, "not a unicast 48-bit MAC"},
		{"address of the wrong family", func(t *testing.T, dir, id string) {
			rewriteNic(t, dir, id, func(r *persistence.NicRecord) { r.IPv4Address = netip.MustParseAddr("fd00::7") })
		}, "ipv4_address fd00::7 is not an IPv4 address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dirs := daemon.NewDirs(t)
			d := daemon.Start(t, dirs)
			mustNetwork(t, d.Client, dual("prod"))
			nic := mustNic(t, d.Client, &netpb.CreateNicRequest{NetworkId: "prod", Name: "vm-a"})
			if err := d.Stop(); err != nil {
				t.Fatal(err)
			}
			tc.corrupt(t, dirs.MetadataDir, nic.Id)
			d, err := daemon.TryStart(t, dirs)
			if err == nil {
				d.Kill()
				t.Fatal("daemon started on a store with a bad nic record")
			}
			msg := err.Error()
			for _, want := range []string{"exit status 1", "stored nic " + nic.Id, tc.want} {
				if !contains(msg, want) {
					t.Fatalf("start error does not say %q:\n%s", want, msg)
				}
			}
		})
	}
}

func openStore(t *testing.T, dir string) *persistence.Store {
	t.Helper()
	s, err := persistence.Open(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rewriteNic changes a stored NIC record through the store.
func rewriteNic(t *testing.T, dir, id string, change func(*persistence.NicRecord)) {
	t.Helper()
	s := openStore(t, dir)
	defer s.Close()
	snap, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, nics := range snap.Nics {
		for _, n := range nics {
			if n.ID == id {
				bad := *n
				change(&bad)
				if err := s.PutNic(&bad, n); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
	}
	t.Fatalf("nic %s not stored", id)
}

// rewriteRaw replaces text in the stored bytes of key, below the store's
// own decoding, as damage on disk would.
func rewriteRaw(t *testing.T, dir, key, from, to string) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithValueLogFileSize(16 << 20))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(key))
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		if !strings.Contains(string(v), from) {
			return fmt.Errorf("%s holds no %q: %s", key, from, v)
		}
		return txn.Set([]byte(key), []byte(strings.Replace(string(v), from, to, 1)))
	})
	if err != nil {
		t.Fatal(err)
	}
}
