package ndp

import (
	"net/netip"
	"testing"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
)

// FuzzNDP feeds arbitrary frames to the NS and RS responders: nothing may
// panic, and every answer must be a well-formed frame from the gateway.
func FuzzNDP(f *testing.F) {
	f.Add(ns(nicLL, solicited, gateway.IPv6, 255, slla(nicMAC)...))
	f.Add(ns(netip.IPv6Unspecified(), solicited, gateway.IPv6, 255))
	f.Add(rs(nicLL, 255, slla(nicMAC)...))
	out := make([]byte, MaxRALen)
	ra := RAConfig{MTU: 1500, DNS: dns}
	f.Fuzz(func(t *testing.T, frame []byte) {
		var p packet.Parsed
		packet.Parse(frame, &p)
		for _, n := range []int{NeighborAdvert(out, frame, &p, &cfg), RouterAdvertReply(out, frame, &p, &cfg, &ra)} {
			if n == 0 {
				continue
			}
			r := packettest.Check(t, out[:n])
			if r.SrcMAC != gateway.MAC || r.TTL != 255 {
				t.Fatalf("answer %+v", r)
			}
		}
	})
}
