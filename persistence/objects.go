package persistence

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

func netKey(id string) []byte       { return []byte("net/" + id) }
func netNameKey(name string) []byte { return []byte("netname/" + name) }
func nicKey(id string) []byte       { return []byte("nic/" + id) }
func nicNameKey(netID, name string) []byte {
	return []byte("nicname/" + netID + "/" + name)
}
func allocKey(netID, a string) []byte { return []byte("alloc/" + netID + "/" + a) }

// CreateNetwork stores a new network and claims its name. A taken name or
// id is ErrConflict.
func (s *Store) CreateNetwork(n *NetworkRecord) error {
	return s.update(func(txn *writeTxn) error {
		if err := absent(txn, netKey(n.ID)); err != nil {
			return err
		}
		if err := claim(txn, netNameKey(n.Name), n.ID); err != nil {
			return err
		}
		return setJSON(txn, netKey(n.ID), n)
	})
}

// UpdateNetwork replaces a stored network (its name never changes).
func (s *Store) UpdateNetwork(n *NetworkRecord) error {
	return s.update(func(txn *writeTxn) error {
		var old NetworkRecord
		if err := getJSON(txn.Txn, netKey(n.ID), &old); err != nil {
			return err
		}
		return setJSON(txn, netKey(n.ID), n)
	})
}

// PutNic creates (old == nil) or updates a NIC, claiming its name (unique
// within its network) and addresses and releasing those the old version
// held. A name or address held by another NIC, or the id of an existing
// NIC for a new one, is ErrConflict; a new NIC of a network that is not
// stored (any more) is ErrNotFound, so that a create racing its network's
// delete never leaves a NIC without a network.
func (s *Store) PutNic(nic, old *NicRecord) error {
	return s.update(func(txn *writeTxn) error {
		if old != nil {
			if err := deleteNic(txn, old); err != nil {
				return err
			}
		} else if err := absent(txn, nicKey(nic.ID)); err != nil {
			return err
		} else if err := present(txn, netKey(nic.NetworkID)); err != nil {
			return err
		}
		if nic.Name != "" {
			if err := claim(txn, nicNameKey(nic.NetworkID, nic.Name), nic.ID); err != nil {
				return err
			}
		}
		for _, a := range nic.addresses() {
			if err := claim(txn, allocKey(nic.NetworkID, a), nic.ID); err != nil {
				return err
			}
		}
		return setJSON(txn, nicKey(nic.ID), nic)
	})
}

// DeleteNic removes a NIC, its name, its address allocations and its
// security group attachments.
func (s *Store) DeleteNic(nic *NicRecord) error {
	return s.update(func(txn *writeTxn) error {
		if err := deleteNic(txn, nic); err != nil {
			return err
		}
		return deleteAttachments(txn, nic.ID)
	})
}

func deleteNic(txn *writeTxn, nic *NicRecord) error {
	for _, k := range nicKeys(nic) {
		if err := txn.Delete(k); err != nil {
			return fmt.Errorf("delete %s: %w", k, err)
		}
	}
	return nil
}

// nicKeys are the keys of a NIC's record, name and addresses.
func nicKeys(nic *NicRecord) [][]byte {
	keys := [][]byte{nicKey(nic.ID)}
	if nic.Name != "" {
		keys = append(keys, nicNameKey(nic.NetworkID, nic.Name))
	}
	for _, a := range nic.addresses() {
		keys = append(keys, allocKey(nic.NetworkID, a))
	}
	return keys
}

// Snapshot is everything the store holds, as loaded at start.
type Snapshot struct {
	Networks []*NetworkRecord
	// Nics maps a network id to its NICs.
	Nics map[string][]*NicRecord
}

// Load reads every network and NIC. A NIC whose network is missing, or a
// record that does not decode, makes the whole load fail; the NICs of a
// network whose deletion has not finished (netdelete.go) are left out.
func (s *Store) Load() (*Snapshot, error) {
	snap := &Snapshot{Nics: map[string][]*NicRecord{}}
	err := s.view(func(txn *badger.Txn) error {
		deleting, err := tombstones(txn)
		if err != nil {
			return err
		}
		nets := map[string]*NetworkRecord{}
		if err := scan(txn, "net/", func(key string, b []byte) error {
			n := &NetworkRecord{}
			if err := decode(key, b, n); err != nil {
				return err
			}
			nets[n.ID] = n
			snap.Networks = append(snap.Networks, n)
			return nil
		}); err != nil {
			return err
		}
		return scan(txn, "nic/", func(key string, b []byte) error {
			n := &NicRecord{}
			if err := decode(key, b, n); err != nil {
				return err
			}
			net := nets[n.NetworkID]
			if net == nil && deleting[n.NetworkID] {
				return nil
			}
			if net == nil {
				return fmt.Errorf("nic %s refers to missing network %s", n.ID, n.NetworkID)
			}
			if err := n.fits(net); err != nil {
				return fmt.Errorf("stored nic %s does not fit its network %s: %w", n.ID, n.NetworkID, err)
			}
			snap.Nics[n.NetworkID] = append(snap.Nics[n.NetworkID], n)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load metadata: %w", err)
	}
	return snap, nil
}

func scan(txn *badger.Txn, prefix string, fn func(key string, value []byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64, Prefix: []byte(prefix)})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		key := string(item.Key())
		if err := item.Value(func(b []byte) error { return fn(key, b) }); err != nil {
			return err
		}
	}
	return nil
}

// record is what Load checks of every stored object.
type record interface {
	storedID() string
	check() error
}

// decode parses a stored record; an error names the record's kind and id
// (from its key) and what is wrong.
func decode(key string, b []byte, r record) error {
	if err := json.Unmarshal(b, r); err != nil {
		return fmt.Errorf("stored %s does not parse: %w", describeKey(key), err)
	}
	if err := r.check(); err != nil {
		return fmt.Errorf("stored %s is invalid: %w", describeKey(key), err)
	}
	if !strings.HasSuffix(key, "/"+r.storedID()) {
		return fmt.Errorf("record %s holds id %q", key, r.storedID())
	}
	return nil
}

// describeKey names the record under key: "nic <id>", "network <id>".
func describeKey(key string) string {
	kind, id, _ := strings.Cut(key, "/")
	if kind == "net" {
		kind = "network"
	}
	return kind + " " + id
}

// LoadNetwork reads one network and its NICs; ErrNotFound if it is gone.
func (s *Store) LoadNetwork(id string) (*NetworkRecord, []*NicRecord, error) {
	n := &NetworkRecord{}
	var nics []*NicRecord
	err := s.view(func(txn *badger.Txn) error {
		if err := getJSON(txn, netKey(id), n); err != nil {
			return err
		}
		return scan(txn, "nic/", func(key string, b []byte) error {
			nic := &NicRecord{}
			if err := decode(key, b, nic); err != nil {
				return err
			}
			if nic.NetworkID == id {
				nics = append(nics, nic)
			}
			return nil
		})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("load network %s: %w", id, err)
	}
	return n, nics, nil
}
