package persistence

import "github.com/dgraph-io/badger/v4"

// writeTxn is a read-write Badger transaction that counts what it will write,
// so that the store can check the disk has room before committing it.
type writeTxn struct {
	*badger.Txn
	// size bounds the bytes the commit adds to the write-ahead log.
	size int64
}

// Set stages key = value.
func (t *writeTxn) Set(key, value []byte) error {
	t.size += int64(len(key)+len(value)) + entryOverhead
	return t.Txn.Set(key, value)
}

// Delete stages the deletion of key (a tombstone, written like a value).
func (t *writeTxn) Delete(key []byte) error {
	t.size += int64(len(key)) + entryOverhead
	return t.Txn.Delete(key)
}
