package persistence

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Security groups are stored as one record per group (its rules inside)
// under "sg/<id>", a name index under "sgname/<name>", and one key per
// attachment under "sgattach/<nic id>/<group id>", so that deleting a NIC
// drops its attachments in the same transaction.

func sgKey(id string) []byte       { return []byte("sg/" + id) }
func sgNameKey(name string) []byte { return []byte("sgname/" + name) }
func sgAttachKey(nicID, sgID string) []byte {
	return []byte(sgAttachPrefix(nicID) + sgID)
}
func sgAttachPrefix(nicID string) string { return "sgattach/" + nicID + "/" }

// SecurityGroupRecord is the stored form of a security group.
type SecurityGroupRecord struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Rules       []RuleRecord `json:"rules,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// RuleRecord is the stored form of one rule of a security group. Direction
// and Protocol hold the API's enum names (RULE_DIRECTION_INGRESS, ...).
type RuleRecord struct {
	ID          string    `json:"id"`
	Direction   string    `json:"direction"`
	Protocol    string    `json:"protocol"`
	PortStart   uint16    `json:"port_start,omitempty"`
	PortEnd     uint16    `json:"port_end,omitempty"`
	CIDR        string    `json:"cidr,omitempty"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Attachment is one security group attached to one NIC.
type Attachment struct {
	NicID   string
	GroupID string
}

func (g *SecurityGroupRecord) storedID() string { return g.ID }

func (g *SecurityGroupRecord) check() error {
	if g.ID == "" || g.Name == "" {
		return errors.New("security group record lacks id or name")
	}
	for _, r := range g.Rules {
		if r.ID == "" || r.Direction == "" || r.Protocol == "" {
			return fmt.Errorf("rule %q lacks id, direction or protocol", r.ID)
		}
	}
	return nil
}

// CreateSecurityGroup stores a new group and claims its name. A taken name
// is ErrConflict.
func (s *Store) CreateSecurityGroup(g *SecurityGroupRecord) error {
	return s.update(func(txn *writeTxn) error {
		if err := claim(txn, sgNameKey(g.Name), g.ID); err != nil {
			return err
		}
		return setJSON(txn, sgKey(g.ID), g)
	})
}

// UpdateSecurityGroup replaces a stored group (its rules; the name never
// changes). A group that is not stored is ErrNotFound.
func (s *Store) UpdateSecurityGroup(g *SecurityGroupRecord) error {
	return s.update(func(txn *writeTxn) error {
		var old SecurityGroupRecord
		if err := getJSON(txn.Txn, sgKey(g.ID), &old); err != nil {
			return err
		}
		return setJSON(txn, sgKey(g.ID), g)
	})
}

// DeleteSecurityGroup removes a group, its name and its attachments to the
// given NICs in one transaction.
func (s *Store) DeleteSecurityGroup(g *SecurityGroupRecord, nicIDs []string) error {
	return s.update(func(txn *writeTxn) error {
		keys := [][]byte{sgKey(g.ID), sgNameKey(g.Name)}
		for _, nic := range nicIDs {
			keys = append(keys, sgAttachKey(nic, g.ID))
		}
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return fmt.Errorf("delete %s: %w", k, err)
			}
		}
		return nil
	})
}

// AttachSecurityGroup stores an attachment. A NIC or group that is not
// stored is ErrNotFound, so an attachment never outlives its NIC.
func (s *Store) AttachSecurityGroup(a Attachment) error {
	return s.update(func(txn *writeTxn) error {
		for _, k := range [][]byte{nicKey(a.NicID), sgKey(a.GroupID)} {
			if _, err := txn.Get(k); errors.Is(err, badger.ErrKeyNotFound) {
				return fmt.Errorf("%s: %w", k, ErrNotFound)
			} else if err != nil {
				return fmt.Errorf("get %s: %w", k, err)
			}
		}
		return txn.Set(sgAttachKey(a.NicID, a.GroupID), nil)
	})
}

// DetachSecurityGroup removes an attachment.
func (s *Store) DetachSecurityGroup(a Attachment) error {
	return s.update(func(txn *writeTxn) error {
		if err := txn.Delete(sgAttachKey(a.NicID, a.GroupID)); err != nil {
			return fmt.Errorf("delete attachment: %w", err)
		}
		return nil
	})
}

// deleteAttachments removes every attachment of a NIC.
func deleteAttachments(txn *writeTxn, nicID string) error {
	for _, k := range attachmentKeys(txn.Txn, nicID) {
		if err := txn.Delete(k); err != nil {
			return fmt.Errorf("delete %s: %w", k, err)
		}
	}
	return nil
}

// attachmentKeys returns the keys of a NIC's attachments. Each call
// copies and sorts the transaction's pending writes (Badger's iterator
// does), so a transaction deleting many NICs gathers their keys before
// it deletes any.
func attachmentKeys(txn *badger.Txn, nicID string) [][]byte {
	var keys [][]byte
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(sgAttachPrefix(nicID))})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		keys = append(keys, it.Item().KeyCopy(nil))
	}
	return keys
}

// SecurityGroups is every stored group and attachment.
type SecurityGroups struct {
	Groups      []*SecurityGroupRecord
	Attachments []Attachment
}

// LoadSecurityGroups reads every group and attachment. An attachment whose
// NIC or group is missing is left out (and logged), as is one of a NIC of
// a network being deleted; a record that does not decode fails the load.
func (s *Store) LoadSecurityGroups() (*SecurityGroups, error) {
	out := &SecurityGroups{}
	err := s.view(func(txn *badger.Txn) error {
		deleting, err := tombstones(txn)
		if err != nil {
			return err
		}
		groups := map[string]bool{}
		if err := scan(txn, "sg/", func(key string, b []byte) error {
			g := &SecurityGroupRecord{}
			if err := decode(key, b, g); err != nil {
				return err
			}
			groups[g.ID] = true
			out.Groups = append(out.Groups, g)
			return nil
		}); err != nil {
			return err
		}
		return scan(txn, "sgattach/", func(key string, _ []byte) error {
			nic, group, ok := strings.Cut(strings.TrimPrefix(key, "sgattach/"), "/")
			if !ok || nic == "" || group == "" {
				return fmt.Errorf("attachment key %q is malformed", key)
			}
			var rec NicRecord
			if err := getJSON(txn, nicKey(nic), &rec); err != nil || !groups[group] {
				s.log.Warn("stored security group attachment refers to a missing nic or group; ignoring it", "key", key)
				return nil
			}
			if deleting[rec.NetworkID] {
				return nil
			}
			out.Attachments = append(out.Attachments, Attachment{NicID: nic, GroupID: group})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load security groups: %w", err)
	}
	return out, nil
}
