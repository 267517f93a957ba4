package cli_test

import (
	"strings"
	"testing"
)

// TestHelp checks that every command documents its usage, flags and examples.
func TestHelp(t *testing.T) {
	for _, cmd := range []string{
		"version",
		"network create", "network get", "network list", "network update", "network delete",
		"nic create", "nic get", "nic list", "nic update", "nic delete",
		"sg create", "sg get", "sg list", "sg delete", "sg rule add", "sg rule remove",
		"nic sg attach", "nic sg detach",
	} {
		t.Run(cmd, func(t *testing.T) {
			out := mvirt(t, append(strings.Fields(cmd), "--help")...)
			wantContains(t, out, "Usage:", "mvirt "+cmd, "Examples:", "--server", "--output", "--timeout")
		})
	}
	wantContains(t, mvirt(t, "network", "create", "--help"),
		"--name", "--ipv4-subnet", "--ipv6-prefix", "--dns", "--ntp", "--public")
	wantContains(t, mvirt(t, "nic", "create", "--help"),
		"--network", "--name", "--mac", "--ipv4", "--ipv6", "--route")
	wantContains(t, mvirt(t, "sg", "rule", "add", "--help"),
		"--direction", "--protocol", "--ports", "--cidr", "8000-8100")
}
