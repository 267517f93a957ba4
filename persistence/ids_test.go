package persistence

import (
	"errors"
	"net/netip"
	"testing"
)

// TestIDsAndNamesPerNetwork: an id in use is ErrConflict for a new network
// or NIC and changes nothing; NIC names are claimed per network.
func TestIDsAndNamesPerNetwork(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	for _, n := range []*NetworkRecord{
		{ID: "n1", Name: "a", IPv4Subnet: netip.MustParsePrefix("10.0.0.0/24")},
		{ID: "n2", Name: "b", IPv4Subnet: netip.MustParsePrefix("10.1.0.0/24")},
	} {
		if err := s.CreateNetwork(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateNetwork(&NetworkRecord{ID: "n1", Name: "c", IPv4Subnet: netip.MustParsePrefix("10.2.0.0/24")}); !errors.Is(err, ErrConflict) {
		t.Fatalf("network id in use: %v", err)
	}
	if err := s.CreateNetwork(&NetworkRecord{ID: "n3", Name: "c", IPv4Subnet: netip.MustParsePrefix("10.2.0.0/24")}); err != nil {
		t.Fatalf("name of a refused create not free: %v", err)
	}
	inA := &NicRecord{ID: "x", Name: "vm-nic", NetworkID: "n1", MAC: mac("52:54:00:00:00:01"), SocketPath: "/s/x.sock"}
	inB := &NicRecord{ID: "y", Name: "vm-nic", NetworkID: "n2", MAC: mac("52:54:00:00:00:02"), SocketPath: "/s/y.sock"}
	for _, nic := range []*NicRecord{inA, inB} {
		if err := s.PutNic(nic, nil); err != nil {
			t.Fatalf("nic %s named %q in network %s: %v", nic.ID, nic.Name, nic.NetworkID, err)
		}
	}
	again := &NicRecord{ID: "x", NetworkID: "n2", MAC: mac("52:54:00:00:00:03"), SocketPath: "/s/x2.sock"}
	if err := s.PutNic(again, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("nic id in use in another network: %v", err)
	}
	if err := s.PutNic(&NicRecord{ID: "z", Name: "vm-nic", NetworkID: "n1", MAC: mac("52:54:00:00:00:04"), SocketPath: "/s/z.sock"}, nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("nic name twice in one network: %v", err)
	}
	snap, err := s.Load()
	if err != nil || len(snap.Nics["n1"]) != 1 || len(snap.Nics["n2"]) != 1 || snap.Nics["n1"][0].SocketPath != "/s/x.sock" {
		t.Fatalf("refused puts changed the store: %+v %v", snap.Nics, err)
	}
	if err := s.DeleteNic(inA); err != nil {
		t.Fatal(err)
	}
	if err := s.PutNic(&NicRecord{ID: "z", Name: "vm-nic", NetworkID: "n1", MAC: mac("52:54:00:00:00:04"), SocketPath: "/s/z.sock"}, nil); err != nil {
		t.Fatalf("name of a deleted nic not free in its network: %v", err)
	}
}
