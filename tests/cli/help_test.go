package cli_test

import (
	"strings"
	"testing"
)

// TestHelp checks that every command documents its usage, flags and examples.
func TestHelp(t *testing.T) {
	for _, cmd := range []string{
		"version",
		"network create", "network get", "network list", "network update", "network delete", "network watch",
		"nic create", "nic get", "nic list", "nic update", "nic delete", "nic attach", "nic watch",
		"sg create", "sg get", "sg list", "sg delete", "sg rule add", "sg rule remove",
		"nic sg attach", "nic sg detach",
	} {
		t.Run(cmd, func(t *testing.T) {
			out := mvirt(t, append(strings.Fields(cmd), "--help")...)
			wantContains(t, out, "Usage:", "mvirt "+cmd, "Examples:", "--server", "--output", "--timeout")
		})
	}
	wantContains(t, mvirt(t, "network", "create", "--help"),
		"--name", "--ipv4-subnet", "--ipv6-prefix", "--dns", "--ntp", "--public", "--id")
	wantContains(t, mvirt(t, "nic", "create", "--help"),
		"--network", "--name", "--mac", "--ipv4", "--ipv6", "--route", "--id", "unique within")
	for _, cmd := range []string{"get", "update", "delete", "attach"} {
		wantContains(t, mvirt(t, "nic", cmd, "--help"), "--network")
	}
	for _, cmd := range []string{"nic", "network"} {
		wantContains(t, mvirt(t, cmd, "watch", "--help"), "ADDED", "UPDATED", "DELETED", "one JSON", "--timeout does not apply")
	}
	wantContains(t, mvirt(t, "sg", "rule", "add", "--help"),
		"--direction", "--protocol", "--ports", "--cidr", "8000-8100")
}
