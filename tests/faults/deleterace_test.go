package faults_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// TestForcedDeleteDuringCreates force-deletes a network while 16 clients
// create NICs in it, so that the delete meets NIC records being written
// (they are written off the NetworkActor's turn). Every create answers a
// NIC, NotFound or Unavailable; afterwards, and after a SIGKILL and
// restart, the daemon lists neither the network nor any NIC (a NIC whose
// record outlived its network would keep the daemon from starting), and
// no socket file is left.
func TestForcedDeleteDuringCreates(t *testing.T) {
	const clients, rounds = 16, 3
	dirs := daemon.NewDirs(t)
	d := daemon.Start(t, dirs)
	c := d.Client
	answered := 0
	for round := range rounds {
		name := fmt.Sprintf("race-%d", round)
		if _, err := c.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{Name: name, Ipv4Enabled: true, Ipv4Subnet: "10.60.0.0/20"}); err != nil {
			t.Fatal(err)
		}
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			wrong []error
			start = make(chan struct{})
		)
		for w := range clients {
			wg.Go(func() {
				<-start
				for i := 0; ; i++ {
					_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: name, Name: fmt.Sprintf("w%d-%d", w, i)})
					switch status.Code(err) {
					case codes.OK:
						mu.Lock()
						answered++
						mu.Unlock()
						continue
					case codes.NotFound, codes.Unavailable:
					default:
						mu.Lock()
						wrong = append(wrong, err)
						mu.Unlock()
					}
					return
				}
			})
		}
		close(start)
		for {
			res, err := c.ListNics(ctx(t), &netpb.ListNicsRequest{NetworkId: name})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Nics) >= 8 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := c.DeleteNetwork(ctx(t), &netpb.DeleteNetworkRequest{Id: name, Force: true}); err != nil {
			t.Fatalf("forced DeleteNetwork during creates: %v", err)
		}
		wg.Wait()
		for _, err := range wrong {
			t.Errorf("CreateNic racing DeleteNetwork: %v", err)
		}
		if t.Failed() {
			t.FailNow()
		}
		assertEmpty(t, fmt.Sprintf("round %d", round), c, dirs.SocketDir)
	}
	d.Kill()
	d = daemon.Start(t, dirs)
	assertEmpty(t, "after SIGKILL and restart", d.Client, dirs.SocketDir)
	if answered == 0 {
		t.Fatal("no create was answered before the deletes")
	}
	t.Logf("%d creates answered across %d forced deletes", answered, rounds)
}

// assertEmpty fails the test unless the daemon lists no network and no
// NIC and the socket directory is empty.
func assertEmpty(t *testing.T, when string, c netpb.NetServiceClient, socketDir string) {
	t.Helper()
	s := snapshot(t, c)
	if len(s.nets.Networks) != 0 || len(s.nics.Nics) != 0 {
		t.Fatalf("%s: the daemon lists %d networks and %d nics, want none", when, len(s.nets.Networks), len(s.nics.Nics))
	}
	if files := socketFiles(t, socketDir); len(files) != 0 {
		t.Fatalf("%s: socket dir holds %v", when, files)
	}
}
