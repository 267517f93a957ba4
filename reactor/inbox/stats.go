package inbox

// DropReason says why the inbox refused or discarded a frame.
type DropReason uint8

// Reasons for drops.
const (
	// DropFull: the ring had no room; the consumer is behind.
	DropFull DropReason = iota
	// DropTooBig: the frame is longer than Config.MaxFrame (or empty).
	DropTooBig
	// DropClosed: the inbox was closed; its NIC is gone or stopping.
	DropClosed
	// DropCancelled: a producer reserved a slot and gave it up.
	DropCancelled
	// NumDropReasons is the number of reasons.
	NumDropReasons
)

var dropNames = [NumDropReasons]string{"full", "too_big", "closed", "cancelled"}

// String names the reason as metrics label it.
func (r DropReason) String() string {
	if r < NumDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

// Drops returns how many frames were dropped for reason r. Any goroutine
// may call it.
func (q *Inbox) Drops(r DropReason) uint64 {
	return q.drops[r].Load()
}

func (q *Inbox) drop(r DropReason) {
	q.drops[r].Add(1)
}
