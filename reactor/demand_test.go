package reactor

import (
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// demandPort is a listening NIC port of a fresh data plane.
func demandPort(t *testing.T) *Port {
	t.Helper()
	dp := NewDataplane(DataplaneConfig{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	p, err := dp.NewNetwork("n").AddNIC(NICSpec{ID: "a", SocketPath: filepath.Join(t.TempDir(), "a.sock"), SocketGroup: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// awaitWake waits on p and returns the channel its wake closes.
func awaitWake(t *testing.T, p *Port) (<-chan struct{}, func()) {
	t.Helper()
	woken := make(chan struct{})
	cancel, err := p.AwaitDemand(func() { close(woken) })
	if err != nil {
		t.Fatal(err)
	}
	return woken, cancel
}

func wokenWithin(c <-chan struct{}, d time.Duration) bool {
	select {
	case <-c:
		return true
	case <-time.After(d):
		return false
	}
}

// TestDemandOnConnect: a frontend connecting to a waiting port's socket
// wakes it, and nothing else does.
func TestDemandOnConnect(t *testing.T) {
	p := demandPort(t)
	woken, cancel := awaitWake(t, p)
	defer cancel()
	if wokenWithin(woken, 50*time.Millisecond) {
		t.Fatal("woken without a frontend or a frame")
	}
	c, err := net.Dial("unix", p.path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if !wokenWithin(woken, 5*time.Second) {
		t.Fatal("a frontend connected and the port was not woken")
	}
}

// TestDemandOnFrame: a frame flushed into a waiting port's inbox wakes
// it; one waiting there before the wait wakes it at once.
func TestDemandOnFrame(t *testing.T) {
	p := demandPort(t)
	woken, cancel := awaitWake(t, p)
	defer cancel()
	put := func() {
		s, ok := p.inbox.Reserve(64)
		if !ok {
			t.Fatal("inbox full")
		}
		s.Commit()
		p.inbox.Flush()
	}
	put()
	if !wokenWithin(woken, 5*time.Second) {
		t.Fatal("a frame arrived and the port was not woken")
	}
	again, cancel2 := awaitWake(t, p)
	defer cancel2()
	if !wokenWithin(again, 5*time.Second) {
		t.Fatal("a port with a frame waiting was not woken")
	}
}

// TestDemandCancel: a cancelled wait is not woken, other ports' waits
// go on, and the watcher stops once none waits.
func TestDemandCancel(t *testing.T) {
	p, q := demandPort(t), demandPort(t)
	woken, cancel := awaitWake(t, p)
	other, cancelOther := awaitWake(t, q)
	cancel()
	cancel() // twice is harmless
	c, err := net.Dial("unix", p.path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if wokenWithin(woken, 100*time.Millisecond) {
		t.Fatal("a cancelled wait was woken")
	}
	c2, err := net.Dial("unix", q.path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c2.Close() }()
	if !wokenWithin(other, 5*time.Second) {
		t.Fatal("cancelling one port's wait ended another's")
	}
	cancelOther()
	demand.mu.Lock()
	running, waits := demand.ep >= 0, len(demand.waits)
	demand.mu.Unlock()
	if running || waits != 0 {
		t.Errorf("with no port waiting: watcher running %v, %d waits", running, waits)
	}
}
