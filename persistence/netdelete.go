package persistence

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// A network is deleted in steps, since a network of thousands of NICs
// holds more keys than one Badger transaction may change (a transaction
// holds at most 15 % of the memtable, see memTableSize). The first commit
// removes the network's record and name and leaves a tombstone under
// "netdel/<id>": from then on the network is gone, and its remaining NICs
// are invisible (Load and LoadSecurityGroups skip them). Batches of NICs,
// each NIC with its name, addresses and attachments, go next, and the
// tombstone last. A stop in between leaves the tombstone, and the next
// Open finishes the deletion before anything is loaded. So a network is
// either wholly there or wholly gone, whatever the moment of a crash.

func netDelKey(id string) []byte { return []byte(netDelPrefix + id) }

const netDelPrefix = "netdel/"

// deleteBatchKeys bounds the keys one batch of a network's deletion
// deletes, well below what a transaction may hold, so that a batch also
// fits beside other changes of its group commit.
const deleteBatchKeys = 1500

// DeleteNetwork removes a network and every NIC stored in it, with their
// names, address allocations and security group attachments. Once it has
// returned nil, or any error after the first step, the network is gone
// (a later Load does not return it); an error of the first step means
// nothing changed. A NIC deletion that fails after the first step is
// logged and finished by the next Open.
func (s *Store) DeleteNetwork(n *NetworkRecord) error {
	if err := s.markDeleted(n); err != nil {
		return err
	}
	if err := s.purgeNetwork(n.ID); err != nil {
		s.log.Warn("network deleted, but not all of its nics yet; the next start finishes it", "network", n.ID, "err", err)
	}
	return nil
}

// markDeleted is the first step of DeleteNetwork: it replaces the
// network's record and name by its tombstone.
func (s *Store) markDeleted(n *NetworkRecord) error {
	return s.update(func(txn *writeTxn) error {
		if err := txn.Delete(netNameKey(n.Name)); err != nil {
			return fmt.Errorf("delete network name: %w", err)
		}
		if err := txn.Delete(netKey(n.ID)); err != nil {
			return fmt.Errorf("delete network: %w", err)
		}
		return txn.Set(netDelKey(n.ID), []byte(n.Name))
	})
}

// purgeNetwork deletes the NICs of a tombstoned network in batches, then
// its tombstone.
func (s *Store) purgeNetwork(id string) error {
	var ids []string
	err := s.view(func(txn *badger.Txn) error {
		var err error
		ids, err = nicsOf(txn, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("list the nics of network %s: %w", id, err)
	}
	for len(ids) > 0 {
		done := 0
		if err := s.update(func(txn *writeTxn) error {
			var err error
			done, err = deleteNicBatch(txn, ids)
			return err
		}); err != nil {
			return fmt.Errorf("delete the nics of network %s: %w", id, err)
		}
		ids = ids[done:]
	}
	for gone := false; !gone; {
		if err := s.update(func(txn *writeTxn) error {
			var err error
			gone, err = finishNetwork(txn, id)
			return err
		}); err != nil {
			return fmt.Errorf("delete network %s: %w", id, err)
		}
	}
	return nil
}

// deleteNicBatch deletes NICs from the head of ids, each with its name,
// addresses and attachments, until the batch holds deleteBatchKeys keys,
// and returns how many it took. A NIC already gone counts as deleted.
func deleteNicBatch(txn *writeTxn, ids []string) (int, error) {
	var keys [][]byte
	took := len(ids)
	for i, nicID := range ids {
		if len(keys) >= deleteBatchKeys {
			took = i
			break
		}
		var nic NicRecord
		err := getJSON(txn.Txn, nicKey(nicID), &nic)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		keys = append(keys, nicKeys(&nic)...)
		keys = append(keys, attachmentKeys(txn.Txn, nicID)...)
	}
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			return 0, fmt.Errorf("delete %s: %w", k, err)
		}
	}
	return took, nil
}

// finishNetwork deletes the tombstone of network id, unless a NIC of the
// network is still stored (one stored while the batches ran): those it
// deletes instead, up to a batch, and says the network is not gone yet.
func finishNetwork(txn *writeTxn, id string) (gone bool, err error) {
	left, err := nicsOf(txn.Txn, id)
	if err != nil {
		return false, err
	}
	if len(left) > 0 {
		_, err := deleteNicBatch(txn, left)
		return false, err
	}
	if err := txn.Delete(netDelKey(id)); err != nil {
		return false, fmt.Errorf("delete tombstone: %w", err)
	}
	return true, nil
}

// nicsOf returns the ids of the NICs stored in network id.
func nicsOf(txn *badger.Txn, id string) ([]string, error) {
	var ids []string
	err := scan(txn, "nic/", func(key string, b []byte) error {
		nic := &NicRecord{}
		if err := decode(key, b, nic); err != nil {
			return err
		}
		if nic.NetworkID == id {
			ids = append(ids, nic.ID)
		}
		return nil
	})
	return ids, err
}

// tombstones returns the ids of the networks whose deletion has not
// finished.
func tombstones(txn *badger.Txn) (map[string]bool, error) {
	out := map[string]bool{}
	err := scan(txn, netDelPrefix, func(key string, _ []byte) error {
		out[key[len(netDelPrefix):]] = true
		return nil
	})
	return out, err
}

// finishDeletes completes the deletions a stop interrupted; Open calls it
// on a writable store before anything is loaded.
func (s *Store) finishDeletes() error {
	var pending map[string]bool
	if err := s.view(func(txn *badger.Txn) error {
		var err error
		pending, err = tombstones(txn)
		return err
	}); err != nil {
		return fmt.Errorf("list unfinished network deletions: %w", err)
	}
	for id := range pending {
		s.log.Info("finishing the deletion of a network that a stop interrupted", "network", id)
		if err := s.purgeNetwork(id); err != nil {
			return err
		}
	}
	return nil
}
