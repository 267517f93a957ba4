package ndp

import (
	"testing"

	"mvirt-net/reactor/packet"
)

// TestAllocs holds NS and RS handling to zero heap allocations.
func TestAllocs(t *testing.T) {
	out := make([]byte, MaxRALen)
	ra := RAConfig{MTU: 1500, DNS: dns}
	nsf := ns(nicLL, solicited, peer6, 255, slla(nicMAC)...)
	rsf := rs(nicLL, 255, slla(nicMAC)...)
	var p packet.Parsed
	cases := map[string]func(){
		"NA":          func() { packet.Parse(nsf, &p); NeighborAdvert(out, nsf, &p, &cfg) },
		"RA reply":    func() { packet.Parse(rsf, &p); RouterAdvertReply(out, rsf, &p, &cfg, &ra) },
		"periodic RA": func() { PeriodicRouterAdvert(out, &ra) },
	}
	for name, f := range cases {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per run, budget 0", name, n)
		}
	}
}

func BenchmarkNeighborAdvert(b *testing.B) {
	out := make([]byte, 128)
	f := ns(nicLL, solicited, peer6, 255, slla(nicMAC)...)
	var p packet.Parsed
	b.ReportAllocs()
	for b.Loop() {
		packet.Parse(f, &p)
		if NeighborAdvert(out, f, &p, &cfg) == 0 {
			b.Fatal("no NA")
		}
	}
}

func BenchmarkRouterAdvertReply(b *testing.B) {
	out := make([]byte, MaxRALen)
	ra := RAConfig{MTU: 1500, DNS: dns}
	f := rs(nicLL, 255, slla(nicMAC)...)
	var p packet.Parsed
	b.ReportAllocs()
	for b.Loop() {
		packet.Parse(f, &p)
		if RouterAdvertReply(out, f, &p, &cfg, &ra) == 0 {
			b.Fatal("no RA")
		}
	}
}
