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
// After registering, the producer must check Room again before it sleeps:
// the consumer may have released everything in between. Producer (store
// the waiter, then load the ring) and consumer (store the release, then
// load the waiters) use sequentially consistent atomics, so at least one
// of the two sees the other.
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
