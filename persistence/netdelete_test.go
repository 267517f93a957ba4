package persistence

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// bigNetwork stores network n1 with count NICs (every tenth attached to
// security group g1) and network n2 with one NIC, also attached.
func bigNetwork(t *testing.T, s *Store, count int) *NetworkRecord {
	t.Helper()
	n1 := &NetworkRecord{ID: "n1", Name: "big", IPv4Subnet: netip.MustParsePrefix("10.0.0.0/16")}
	n2 := &NetworkRecord{ID: "n2", Name: "small", IPv4Subnet: netip.MustParsePrefix("10.1.0.0/16")}
	for _, n := range []*NetworkRecord{n1, n2} {
		if err := s.CreateNetwork(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSecurityGroup(&SecurityGroupRecord{ID: "g1", Name: "web"}); err != nil {
		t.Fatal(err)
	}
	// Many NICs per commit: one PutNic each would take a synced commit
	// each.
	for first := 0; first < count; first += 300 {
		if err := s.update(func(txn *writeTxn) error {
			for i := first; i < min(first+300, count); i++ {
				nic := nicN(i)
				if err := claim(txn, nicNameKey(nic.NetworkID, nic.Name), nic.ID); err != nil {
					return err
				}
				if err := claim(txn, allocKey(nic.NetworkID, nic.IPv4Address.String()), nic.ID); err != nil {
					return err
				}
				if err := setJSON(txn, nicKey(nic.ID), nic); err != nil {
					return err
				}
				if i%10 == 0 {
					if err := txn.Set(sgAttachKey(nic.ID, "g1"), nil); err != nil {
						return err
					}
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	other := &NicRecord{ID: "other", Name: "vm-0", NetworkID: "n2", MAC: mac("52:54:00:01:00:01"),
		IPv4Address: netip.MustParseAddr("10.1.0.1"), SocketPath: "/s/other.sock"}
	if err := s.PutNic(other, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.AttachSecurityGroup(Attachment{NicID: "other", GroupID: "g1"}); err != nil {
		t.Fatal(err)
	}
	return n1
}

// leftovers lists every stored key of network n1 or of its NICs.
func leftovers(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := string(it.Item().Key())
			if strings.Contains(k, "n1") || strings.HasPrefix(k, "nic/nic-") || strings.HasPrefix(k, "sgattach/nic-") {
				out = append(out, k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkSmallIntact checks that only n2, its NIC and its attachment load.
func checkSmallIntact(t *testing.T, s *Store) {
	t.Helper()
	snap, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Networks) != 1 || snap.Networks[0].ID != "n2" || len(snap.Nics) != 1 || len(snap.Nics["n2"]) != 1 {
		t.Fatalf("loaded %d networks %v, nics of %d networks", len(snap.Networks), snap.Networks, len(snap.Nics))
	}
	sg, err := s.LoadSecurityGroups()
	if err != nil {
		t.Fatal(err)
	}
	if len(sg.Attachments) != 1 || sg.Attachments[0].NicID != "other" {
		t.Fatalf("attachments %v", sg.Attachments)
	}
}

// TestDeleteNetworkOfThousandsOfNics: a network of more NICs than one
// transaction can delete is deleted whole, its name is free again, and
// the network beside it keeps everything.
func TestDeleteNetworkOfThousandsOfNics(t *testing.T) {
	const count = 5000
	dir := t.TempDir()
	s := open(t, dir)
	n1 := bigNetwork(t, s, count)
	snap, err := s.Load()
	if err != nil || len(snap.Nics["n1"]) != count {
		t.Fatalf("stored %d nics: %v", len(snap.Nics["n1"]), err)
	}
	if err := s.DeleteNetwork(n1); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, s); len(left) > 0 {
		t.Fatalf("%d keys left, e.g. %s", len(left), left[0])
	}
	checkSmallIntact(t, s)
	if err := s.CreateNetwork(&NetworkRecord{ID: "n3", Name: "big", IPv4Subnet: netip.MustParsePrefix("10.0.0.0/16")}); err != nil {
		t.Fatalf("name of the deleted network not free: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer s.Close()
	snap, err = s.Load()
	if err != nil || len(snap.Networks) != 2 || len(snap.Nics["n1"]) != 0 || len(snap.Nics["n2"]) != 1 {
		t.Fatalf("after reopening: %d networks, %v", len(snap.Networks), err)
	}
}

// TestInterruptedDeleteIsFinishedAtOpen: a deletion stopped after its
// tombstone and part of its batches loads as a network wholly gone, and
// the next Open deletes the rest.
func TestInterruptedDeleteIsFinishedAtOpen(t *testing.T) {
	const count = 2000
	dir := t.TempDir()
	s := open(t, dir)
	n1 := bigNetwork(t, s, count)
	if err := s.markDeleted(n1); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, count/2)
	for i := range count / 2 {
		ids = append(ids, nicN(i).ID)
	}
	if err := s.update(func(txn *writeTxn) error {
		done, err := deleteNicBatch(txn, ids)
		if err == nil && done == 0 {
			err = fmt.Errorf("batch deleted nothing")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(leftovers(t, s)) == 0 {
		t.Fatal("nothing of the interrupted deletion left to finish")
	}
	checkSmallIntact(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer s.Close()
	if left := leftovers(t, s); len(left) > 0 {
		t.Fatalf("Open left %d keys, e.g. %s", len(left), left[0])
	}
	checkSmallIntact(t, s)
}
