package inbox

// maxWaiters bounds the producers that can wait for room in one inbox at a
// time; more drop instead of waiting.
const maxWaiters = 8

// WaitForRoom registers a producer that found q full: when the consumer
// next releases frames it Flushes w, the producer's own inbox, waking the
// producer's reactor if it is parked. It reports false when no waiter
// place is free (the producer should drop instead). Registering twice is
// harmless.
//
// The producer must Park w before registering, and check Room (or
// Released) again after it, before it sleeps: the consumer may have
// released everything in between, or may take the waiter and Flush w
// before w is parked. Producer (store the waiter with a LOCK-prefixed
// CAS and add, then load the ring) and consumer (store the release, then
// fullFence, then load the waiters) are both fenced, so at least one of
// the two sees the other; see the package doc.
func (q *Inbox) WaitForRoom(w *Inbox) bool {
	free := -1
	for i := range q.waiters {
		switch p := q.waiters[i].Load(); {
		case p == w:
			return true
		case p == nil && free < 0:
			free = i
		}
	}
	if free < 0 || !q.waiters[free].CompareAndSwap(nil, w) {
		return false
	}
	q.waiting.Add(1)
	return true
}

// wakeWaiters flushes every registered producer inbox, once.
func (q *Inbox) wakeWaiters() {
	for i := range q.waiters {
		if w := q.waiters[i].Swap(nil); w != nil {
			q.waiting.Add(-1)
			w.Flush()
		}
	}
}
