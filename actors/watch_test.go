package actors

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/rpc/netpb"
)

// TestHubEndsAWatcherThatFallsBehind: publish never waits; a watcher whose
// buffer is full is ended with ResourceExhausted after the events it holds,
// while one that keeps reading gets every event.
func TestHubEndsAWatcherThatFallsBehind(t *testing.T) {
	h := newHub[*netpb.NicEvent]("nic", nil)
	slow, fast := newWatch[*netpb.NicEvent](nil), newWatch[*netpb.NicEvent](nil)
	h.add(slow)
	h.add(fast)
	var got []*netpb.NicEvent
	for i := range 3 * watchBuffer {
		ev := nicEvent("x", &netpb.Nic{Id: "x", Name: string(rune('a' + i%26))})
		h.publish(ev)
		got = append(got, <-fast.Events())
		if got[i] != ev {
			t.Fatalf("fast watcher's event %d is not the one published", i)
		}
	}
	if _, ok := h.watchers[slow]; ok || len(h.watchers) != 1 {
		t.Fatalf("slow watcher still subscribed (%d watchers)", len(h.watchers))
	}
	n := 0
	for ev := range slow.Events() {
		if ev != got[n] {
			t.Fatalf("slow watcher's event %d is not the %dth published", n, n)
		}
		n++
	}
	if n != watchBuffer || status.Code(slow.Err()) != codes.ResourceExhausted {
		t.Fatalf("slow watcher got %d events then %v, want %d then ResourceExhausted", n, slow.Err(), watchBuffer)
	}
	h.remove(slow) // a client closing an ended watch changes nothing
	h.endAll(nil)
	if _, ok := <-fast.Events(); ok || fast.Err() != nil || len(h.watchers) != 0 {
		t.Fatalf("endAll(nil): open %v, err %v, %d watchers", ok, fast.Err(), len(h.watchers))
	}
}
