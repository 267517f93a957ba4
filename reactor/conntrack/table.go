package conntrack

import (
	"math/bits"
	"math/rand/v2"
	"time"
)

// Idle timeouts, as the newer mvirt daemons use them, and the short ones
// that expire closed or half-open TCP connections fast.
const (
	TimeoutTCPEstablished = 5 * time.Minute
	TimeoutTCPOpening     = 30 * time.Second
	TimeoutTCPClosed      = 10 * time.Second
	TimeoutUDP            = 30 * time.Second
	TimeoutOther          = 60 * time.Second
)

// DefaultSize is a NIC's table size when the daemon is not told otherwise:
// 16384 entries of 64 bytes, 1 MiB per NIC.
const DefaultSize = 16384

// bucketSlots is the number of entries a key may live in.
const bucketSlots = 8

// State is a connection's state as far as the tracker follows it.
type State uint8

// States.
const (
	// StateNew: a TCP SYN seen from the opener only, or a UDP / ICMP /
	// other flow seen in one direction only.
	StateNew State = iota
	// StateEstablished: traffic seen both ways.
	StateEstablished
	// StateClosing: a TCP FIN seen from one side.
	StateClosing
	// StateClosed: FINs from both sides, or a RST.
	StateClosed
)

// String names the state.
func (s State) String() string {
	switch s {
	case StateNew:
		return "new"
	case StateEstablished:
		return "established"
	case StateClosing:
		return "closing"
	}
	return "closed"
}

// Entry is one tracked connection. Only the table's owner touches it.
type Entry struct {
	Key Key
	// expires is the nanotime after which the entry is free; 0: free.
	expires int64
	// Egress says the NIC opened the connection.
	Egress bool
	State  State
	fins   uint8 // bit 0: Local sent FIN, bit 1: Remote did
	// gen changes whenever the slot takes another connection.
	gen uint32
}

// Gen identifies the connection in e's slot: it changes whenever the slot
// takes another one.
func (e *Entry) Gen() uint32 { return e.gen }

// Table is a NIC's fixed-size connection table. It is not safe for
// concurrent use: its reactor's thread owns it.
type Table struct {
	entries []Entry
	mask    uint64
	seed    uint64
	gen     uint32
}

// New allocates a table of at least size entries (rounded up to a power
// of two, at least one bucket).
func New(size int) *Table {
	n := max(size, bucketSlots)
	n = 1 << bits.Len(uint(n-1))
	return &Table{entries: make([]Entry, n), mask: uint64(n/bucketSlots - 1), seed: rand.Uint64()}
}

// Cap returns the number of entries the table holds at most.
func (t *Table) Cap() int { return len(t.entries) }

func (t *Table) bucket(k *Key) []Entry {
	i := (k.hash(t.seed) & t.mask) * bucketSlots
	return t.entries[i : i+bucketSlots : i+bucketSlots]
}

// Lookup returns the live entry of k at time now (nanoseconds on the
// reactor's clock), or nil.
func (t *Table) Lookup(k *Key, now int64) *Entry {
	b := t.bucket(k)
	for i := range b {
		if e := &b[i]; e.expires > now && e.Key == *k {
			return e
		}
	}
	return nil
}

// Insert tracks a new connection k, opened by the NIC if egress, taking a
// free slot of its bucket: an empty or expired one, or else one of a
// closed connection. It returns nil when the bucket is full of live
// connections: the caller drops the packet and counts it.
func (t *Table) Insert(k *Key, egress bool, now int64) *Entry {
	b := t.bucket(k)
	var victim *Entry
	for i := range b {
		e := &b[i]
		if e.expires <= now {
			victim = e
			break
		}
		if e.State == StateClosed && victim == nil {
			victim = e
		}
	}
	if victim == nil {
		return nil
	}
	t.gen++
	*victim = Entry{Key: *k, Egress: egress, State: StateNew, gen: t.gen}
	return victim
}

// Seen updates e with a packet of it at time now: fromLocal says the NIC
// sent it, tcpFlags are its TCP flags (TCP only). It follows the TCP
// state and sets the idle timeout for the new state.
func (e *Entry) Seen(fromLocal bool, tcpFlags uint8, now int64) {
	opener := fromLocal == e.Egress
	if e.Key.Proto != 6 {
		if !opener {
			e.State = StateEstablished
		}
		timeout := TimeoutOther
		if e.Key.Proto == 17 {
			timeout = TimeoutUDP
		}
		e.expires = now + int64(timeout)
		return
	}
	side := uint8(1)
	if !fromLocal {
		side = 2
	}
	switch {
	case tcpFlags&FlagRST != 0:
		e.State = StateClosed
	case tcpFlags&FlagFIN != 0:
		e.fins |= side
		e.State = StateClosing
		if e.fins == 3 {
			e.State = StateClosed
		}
	case e.State == StateNew && (!opener || tcpFlags&FlagSYN == 0):
		// The answer of the other side, or a connection picked up in
		// the middle (after a restart, say).
		e.State = StateEstablished
	}
	timeout := TimeoutTCPEstablished
	switch e.State {
	case StateNew:
		timeout = TimeoutTCPOpening
	case StateClosed:
		timeout = TimeoutTCPClosed
	}
	e.expires = now + int64(timeout)
}

// Touch is Seen for the common packet of an established connection, one
// that changes nothing but its idle timeout (no FIN, no RST); for any
// other packet it reports false and does nothing.
func (e *Entry) Touch(tcpFlags uint8, now int64) bool {
	if e.State != StateEstablished || tcpFlags&(FlagFIN|FlagRST) != 0 {
		return false
	}
	timeout := TimeoutOther
	switch e.Key.Proto {
	case 6:
		timeout = TimeoutTCPEstablished
	case 17:
		timeout = TimeoutUDP
	}
	e.expires = now + int64(timeout)
	return true
}

// Reopen makes e the start of a new connection with its key (a TCP SYN
// reusing the ports of a closed one), opened by the NIC if egress.
func (e *Entry) Reopen(egress bool) {
	*e = Entry{Key: e.Key, Egress: egress, State: StateNew, gen: e.gen}
}

// ExpiresIn returns how long e lives without traffic after now.
func (e *Entry) ExpiresIn(now int64) time.Duration { return time.Duration(e.expires - now) }

// Each calls fn for every live entry at now, in table order.
func (t *Table) Each(now int64, fn func(*Entry)) {
	for i := range t.entries {
		if e := &t.entries[i]; e.expires > now {
			fn(e)
		}
	}
}
