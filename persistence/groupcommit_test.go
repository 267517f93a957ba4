package persistence

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
)

// nicN is the n-th NIC of network n1, with a name and an address of its
// own.
func nicN(i int) *NicRecord {
	return &NicRecord{
		ID: fmt.Sprintf("nic-%d", i), Name: fmt.Sprintf("vm-%d", i), NetworkID: "n1",
		MAC:         mac(fmt.Sprintf("52:54:00:00:%02x:%02x", i>>8, i&0xff)),
		IPv4Address: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
		SocketPath:  fmt.Sprintf("/s/%d.sock", i),
	}
}

// TestConcurrentChangesKeepTheirOwnOutcome: changes asked for at once
// share commits, yet each gets its own answer, a failing one changes
// nothing, and every other lands.
func TestConcurrentChangesKeepTheirOwnOutcome(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.CreateNetwork(&NetworkRecord{ID: "n1", Name: "prod", IPv4Subnet: netip.MustParsePrefix("10.0.0.0/16")}); err != nil {
		t.Fatal(err)
	}
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := nicN(i)
			if i%10 == 9 {
				// Claims the name of NIC i-1, asked for at the same time:
				// exactly one of the two holds it afterwards.
				rec.Name = nicN(i - 1).Name
			}
			errs[i] = s.PutNic(rec, nil)
		}()
	}
	wg.Wait()
	for i := range n {
		if i%10 == 8 || i%10 == 9 {
			a, b := errs[i-i%10+8], errs[i-i%10+9]
			if (a == nil) == (b == nil) || !errors.Is(errors.Join(a, b), ErrConflict) {
				t.Fatalf("nics %d and %d share a name: %v, %v", i-i%10+8, i-i%10+9, a, b)
			}
			continue
		}
		if errs[i] != nil {
			t.Fatalf("nic %d: %v", i, errs[i])
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.PutNic(nicN(n), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("change after Close: %v", err)
	}

	s = open(t, dir)
	defer s.Close()
	snap, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(snap.Nics["n1"]); got != n-n/10 {
		t.Fatalf("%d nics stored, want %d", got, n-n/10)
	}
}

// BenchmarkPutNic is the cost of a durable NIC record with 1 and with 32
// writers at once; with 32 their changes share synced commits.
func BenchmarkPutNic(b *testing.B) {
	for _, writers := range []int{1, 32} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s, err := Open(b.TempDir(), quiet())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var (
				mu   sync.Mutex
				next int
				wg   sync.WaitGroup
			)
			b.ResetTimer()
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						mu.Lock()
						i := next
						next++
						mu.Unlock()
						if i >= b.N {
							return
						}
						if err := s.PutNic(nicN(i%60000), nil); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}
