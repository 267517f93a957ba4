package tun

import (
	"testing"

	"mvirt-net/reactor/offload"
)

// TestFeaturesOf: the TUN's offload flags stand for the same offloads in
// both directions; USO needs both UDP flags to be taken from the kernel,
// and nothing without TUN_F_CSUM.
func TestFeaturesOf(t *testing.T) {
	tcp := offload.Csum | offload.GuestCsum | offload.HostTSO4 | offload.GuestTSO4 |
		offload.HostTSO6 | offload.GuestTSO6 | offload.HostECN | offload.GuestECN
	for _, c := range []struct {
		flags uint
		want  offload.Features
	}{
		{0, 0},
		{FlagTSO4 | FlagTSO6, 0},
		{FlagCsum, offload.Csum | offload.GuestCsum},
		{offloadTCP, tcp},
		{offloadTCP | FlagUSO4, tcp | offload.GuestUSO4},
		{offloadTCP | offloadUDP, tcp | offload.HostUSO | offload.GuestUSO4 | offload.GuestUSO6},
	} {
		if got := featuresOf(c.flags); got != c.want {
			t.Errorf("flags %s: %v, want %v", FlagNames(c.flags), got, c.want)
		}
	}
	if got := FlagNames(offloadTCP | offloadUDP); got != "csum,tso4,tso6,tso_ecn,uso4,uso6" {
		t.Errorf("FlagNames: %q", got)
	}
}
