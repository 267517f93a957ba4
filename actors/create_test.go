package actors

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/persistence"
	"mvirt-net/rpc/netpb"
)

// startTree runs a real actor tree on a fresh store and socket directory.
func startTree(t testing.TB) (*System, *persistence.Store) {
	t.Helper()
	dir, err := os.MkdirTemp("", "mva")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := persistence.Open(filepath.Join(dir, "data"), log)
	if err != nil {
		t.Fatal(err)
	}
	sockets := filepath.Join(dir, "s")
	if err := os.MkdirAll(sockets, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Start(Config{Store: store, SocketDir: sockets, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Shutdown()
		_ = store.Close()
	})
	return s, store
}

func askFor[T any](t *testing.T, s *System, msg any) T {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := s.Ask(c, msg)
	if err != nil {
		t.Fatalf("%T: %v", msg, err)
	}
	return res.(T)
}

// TestNicNameFreeAfterCreateFails makes the NetworkActor's create step fail
// where it used to crash the NetworkActor: spawning the NIC's actor while
// another process holds the actor's name (as a NicActor of the same
// caller-chosen id does while it stops). The create answers Unavailable,
// leaves nothing behind (no record, no name or id held), and the network
// keeps serving: the name and the id can be used at once.
func TestNicNameFreeAfterCreateFails(t *testing.T) {
	s, store := startTree(t)
	n := askFor[*netpb.Network](t, s, &netpb.CreateNetworkRequest{Name: "crash", Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/24"})
	const nicID = "5f0e2a9c-8d41-4b6e-a1f3-2c7d9e8b4a10"
	squatter, err := s.sys.Root.SpawnNamed(actor.PropsFromFunc(func(actor.Context) {}), "netmanager/net-"+n.Id+"/nic-"+nicID)
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = s.Ask(c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "web", Id: nicID})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("create while the actor name is taken: %v, want Unavailable", err)
	}
	if _, err := s.Ask(c, &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Name{Name: "web"}}); status.Code(err) != codes.NotFound {
		t.Fatalf("GetNic of the failed create: %v, want NotFound", err)
	}
	other := askFor[*netpb.Nic](t, s, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "web"})
	askFor[*netpb.DeleteNicResponse](t, s, &netpb.DeleteNicRequest{Id: other.Id})

	if err := s.sys.Root.StopFuture(squatter).Wait(); err != nil {
		t.Fatal(err)
	}
	nic := askFor[*netpb.Nic](t, s, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "web", Id: nicID})
	if nic.Id != nicID || nic.Ipv4Address != "10.0.0.1" {
		t.Fatalf("create after the name was freed: %v, want id %s and the first address again", nic, nicID)
	}
	got := askFor[*netpb.Nic](t, s, &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Name{Name: "web"}})
	if got.Id != nicID {
		t.Fatalf("GetNic web = %s, want %s", got.Id, nicID)
	}
	snap, err := store.Load()
	if err != nil || len(snap.Nics[n.Id]) != 1 {
		t.Fatalf("stored nics %v (%v), want just %s", snap.Nics[n.Id], err, nicID)
	}
}
