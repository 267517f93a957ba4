package actors

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"mvirt-net/persistence"
	"mvirt-net/reactor/hugepage"
	"mvirt-net/rpc/netpb"
)

// lockedBuffer is a log sink that the test reads while the tree writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestNicWithoutHugepageLoadsInError: with huge pages required and a pool
// that shrank to nothing after the start check (the tree is started past
// CheckHugepages), the stored NICs load in state ERROR with the cause and
// the command that fixes it in the log, where the NetworkActor used to
// panic at every restart; the network still answers, the NICs can be
// deleted, and the next start with pages (here: without huge pages)
// brings the others back.
func TestNicWithoutHugepageLoadsInError(t *testing.T) {
	pool, err := hugepage.ReadPool()
	if err != nil {
		t.Skipf("no huge page pool: %v", err)
	}
	if pool.Available() > 0 {
		// The pool is machine-wide; tests/hugepages sizes it, one test at
		// a time, and this test must not race it.
		t.Skipf("%d huge pages available: an inbox would find one", pool.Available())
	}
	dir := t.TempDir()
	sockets := filepath.Join(dir, "s")
	if err := os.MkdirAll(sockets, 0o755); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	store, err := persistence.Open(filepath.Join(dir, "data"), log)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cfg := Config{Store: store, SocketDir: sockets, SocketGroup: -1, Log: log}

	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := askFor[*netpb.Network](t, s, &netpb.CreateNetworkRequest{Name: "hp", Ipv4Enabled: true, Ipv4Subnet: "10.9.0.0/24"})
	var nics []*netpb.Nic
	for range 3 {
		nics = append(nics, askFor[*netpb.Nic](t, s, &netpb.CreateNicRequest{NetworkId: n.Id}))
	}
	s.Shutdown()

	cfg.Hugepages = hugepage.Required
	sys, d := newDeps(cfg)
	s, err = spawnManager(sys, d)
	if err != nil {
		t.Fatalf("start with a NIC inbox that finds no huge page: %v", err)
	}
	for _, nic := range nics {
		got := askFor[*netpb.Nic](t, s, &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Id{Id: nic.Id}})
		if got.GetState() != netpb.NicState_NIC_STATE_ERROR {
			t.Errorf("nic %s without a huge page: state %v, want ERROR", nic.Id, got.GetState())
		}
	}
	for _, want := range []string{"nic without a data plane", "echo 1 > /proc/sys/vm/nr_hugepages"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	askFor[*netpb.Network](t, s, &netpb.UpdateNetworkRequest{Id: n.Id, DnsServers: []string{"198.51.100.53"}})
	askFor[*netpb.DeleteNicResponse](t, s, &netpb.DeleteNicRequest{Id: nics[0].Id})
	for _, a := range d.reg.tree().Children {
		if a.Kind == KindNetwork && a.Restarts != 0 {
			t.Errorf("network actor %s restarted %d times", a.NetworkID, a.Restarts)
		}
	}
	s.Shutdown()

	cfg.Hugepages = hugepage.Off
	s, err = Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	for _, nic := range nics[1:] {
		got := askFor[*netpb.Nic](t, s, &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Id{Id: nic.Id}})
		if got.GetState() == netpb.NicState_NIC_STATE_ERROR {
			t.Errorf("nic %s after a start with its page: still ERROR", nic.Id)
		}
	}
	del := askFor[*netpb.DeleteNetworkResponse](t, s, &netpb.DeleteNetworkRequest{Id: n.Id, Force: true})
	if del.GetNicsDeleted() != 2 {
		t.Fatalf("forced delete removed %d nics, want 2", del.GetNicsDeleted())
	}
}
