package faults_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// nicFate is what the test knows of one NIC it asked for.
type nicFate int

const (
	createSent nicFate = iota // CreateNic sent, not answered
	created                   // CreateNic answered
	deleteSent                // DeleteNic sent, not answered
	deleted                   // DeleteNic answered
)

// churnModel records, per NIC name, what the daemon acknowledged.
type churnModel struct {
	mu    sync.Mutex
	fate  map[string]nicFate
	nic   map[string]*netpb.Nic // as CreateNic (or a later listing) answered
	acks  struct{ creates, deletes int }
	wrong []error // answers that a kill does not explain
}

func (m *churnModel) set(name string, f nicFate, n *netpb.Nic) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fate[name] = f
	if n != nil {
		m.nic[name] = n
	}
	switch f {
	case created:
		m.acks.creates++
	case deleted:
		m.acks.deletes++
	}
}

// failed records an RPC error; a killed daemon explains only a broken
// connection.
func (m *churnModel) failed(what string, err error) {
	switch status.Code(err) {
	case codes.Unavailable, codes.Canceled:
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.wrong = append(m.wrong, fmt.Errorf("%s: %w", what, err))
}

// worker creates and deletes NICs one after the other until stop is closed
// or the daemon stops answering.
func (m *churnModel) worker(c netpb.NetServiceClient, round, w int, stop <-chan struct{}) {
	for seq := 0; ; seq++ {
		select {
		case <-stop:
			return
		default:
		}
		name := fmt.Sprintf("r%02d-w%d-%04d", round, w, seq)
		rctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		m.set(name, createSent, nil)
		nic, err := c.CreateNic(rctx, &netpb.CreateNicRequest{NetworkId: "churn", Name: name})
		if err != nil {
			cancel()
			m.failed("CreateNic "+name, err)
			return
		}
		m.set(name, created, nic)
		m.set(name, deleteSent, nil)
		_, err = c.DeleteNic(rctx, &netpb.DeleteNicRequest{Id: nic.Id})
		cancel()
		if err != nil {
			m.failed("DeleteNic "+name, err)
			return
		}
		m.set(name, deleted, nil)
	}
}

// verify checks the restarted daemon against the model and settles what
// the model did not know (unanswered creates and deletes) from what the
// daemon lists.
func (m *churnModel) verify(t *testing.T, when string, c netpb.NetServiceClient, socketDir string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, err := range m.wrong {
		t.Errorf("%s: %v", when, err)
	}
	if t.Failed() {
		t.FailNow()
	}
	res, err := c.ListNics(ctx(t), &netpb.ListNicsRequest{NetworkId: "churn"})
	if err != nil {
		t.Fatalf("%s: ListNics: %v", when, err)
	}
	listed := map[string]*netpb.Nic{}
	seen := map[string]string{}
	for _, n := range res.Nics {
		listed[n.Name] = n
		for _, k := range []string{n.Ipv4Address, n.Ipv6Address, n.MacAddress, n.SocketPath} {
			if other, dup := seen[k]; dup {
				t.Fatalf("%s: %s held by both %s and %s", when, k, other, n.Name)
			}
			seen[k] = n.Name
		}
		if _, known := m.fate[n.Name]; !known {
			t.Fatalf("%s: nic %s was never asked for", when, n.Name)
		}
		if !socketListens(n.SocketPath) {
			t.Fatalf("%s: nic %s is listed but its socket does not listen", when, n.Name)
		}
	}
	if files, want := socketFiles(t, socketDir), nicSockets(state{nics: res}); fmt.Sprint(files) != fmt.Sprint(want) {
		t.Fatalf("%s: socket dir holds %v, the NICs' sockets are %v", when, files, want)
	}
	for name, f := range m.fate {
		got, there := listed[name]
		switch f {
		case created:
			if !there {
				t.Fatalf("%s: acknowledged nic %s is lost", when, name)
			}
			want := m.nic[name]
			if got.Id != want.Id || got.Ipv4Address != want.Ipv4Address || got.Ipv6Address != want.Ipv6Address || got.MacAddress != want.MacAddress {
				t.Fatalf("%s: nic %s came back as %v, acknowledged as %v", when, name, got, want)
			}
		case deleted:
			if there {
				t.Fatalf("%s: nic %s is back after its delete was acknowledged", when, name)
			}
		case createSent, deleteSent:
			if there {
				m.fate[name], m.nic[name] = created, got
			} else {
				m.fate[name] = deleted
			}
		}
	}
}

// deleteLeftovers deletes the NICs whose delete a kill cut off, so that
// they do not pile up over the rounds.
func (m *churnModel) deleteLeftovers(t *testing.T, c netpb.NetServiceClient) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, f := range m.fate {
		if f != created {
			continue
		}
		if _, err := c.DeleteNic(ctx(t), &netpb.DeleteNicRequest{Id: m.nic[name].Id}); err != nil {
			t.Fatalf("delete leftover nic %s: %v", name, err)
		}
		m.fate[name] = deleted
		m.acks.deletes++
	}
}

// TestSigkillDuringChurn kills the daemon with SIGKILL 20 times in a row
// (5 with -short) while 8 workers create and delete NICs, and after each
// restart checks that every acknowledged create is there unless its delete
// was acknowledged, that no acknowledged delete came back, that no
// address, MAC or socket is held twice, that every NIC listed listens and
// that no other socket file is left.
func TestSigkillDuringChurn(t *testing.T) {
	rounds := 20
	if testing.Short() {
		rounds = 5
	}
	const workers = 8
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	dirs := daemon.NewDirs(t)
	d := daemon.Start(t, dirs)
	if _, err := d.Client.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{
		Name: "churn", Ipv4Enabled: true, Ipv4Subnet: "10.50.0.0/24", Ipv6Enabled: true, Ipv6Prefix: "fd50::/64",
	}); err != nil {
		t.Fatal(err)
	}
	m := &churnModel{fate: map[string]nicFate{}, nic: map[string]*netpb.Nic{}}
	for round := range rounds {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { m.worker(d.Client, round, w, stop) })
		}
		time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
		d.Kill()
		close(stop)
		wg.Wait()
		d = daemon.Start(t, dirs)
		m.verify(t, fmt.Sprintf("after SIGKILL %d", round+1), d.Client, dirs.SocketDir)
		m.deleteLeftovers(t, d.Client)
	}
	if m.acks.creates == 0 || m.acks.deletes == 0 {
		t.Fatalf("no churn: %d creates and %d deletes acknowledged", m.acks.creates, m.acks.deletes)
	}
	t.Logf("%d SIGKILLs: %d creates and %d deletes acknowledged", rounds, m.acks.creates, m.acks.deletes)
}
