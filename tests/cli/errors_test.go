package cli_test

import (
	"strings"
	"testing"
)

// Exit statuses of mvirt.
const (
	exitFailure = 1
	exitUsage   = 2
)

// TestDaemonErrors checks that the daemon's refusals exit 1 and show its
// message, naming what was wrong.
func TestDaemonErrors(t *testing.T) {
	mvirt(t, "network", "create", "--name", "cli-dup", "--ipv4-subnet", "10.30.0.0/24")
	mvirt(t, "nic", "create", "--network", "cli-dup", "--name", "cli-dup-eth0", "--ipv4", "10.30.0.7")

	for _, tc := range []struct {
		name string
		args []string
		want []string // in the message, ignoring case
	}{
		{"duplicate network name",
			[]string{"network", "create", "--name", "cli-dup", "--ipv4-subnet", "10.31.0.0/24"},
			[]string{`"cli-dup"`, "already exists"}},
		{"unknown network id",
			[]string{"network", "get", "00000000-0000-4000-8000-000000000000"},
			[]string{"not found"}},
		{"unknown network name",
			[]string{"network", "delete", "cli-no-such-network"},
			[]string{"not found"}},
		{"unknown nic id",
			[]string{"nic", "delete", "00000000-0000-4000-8000-000000000001"},
			[]string{"not found"}},
		{"unknown nic name",
			[]string{"nic", "update", "cli-no-such-nic", "--clear-routes"},
			[]string{"not found"}},
		{"nic in unknown network",
			[]string{"nic", "create", "--network", "cli-no-such-network"},
			[]string{"not found"}},
		{"bad IPv4 subnet",
			[]string{"network", "create", "--name", "cli-bad4", "--ipv4-subnet", "10.0.0.0/33"},
			[]string{"10.0.0.0/33"}},
		{"bad IPv6 prefix",
			[]string{"network", "create", "--name", "cli-bad6", "--ipv6-prefix", "fd00::zz/64"},
			[]string{"fd00::zz/64"}},
		{"address outside the subnet",
			[]string{"nic", "create", "--network", "cli-dup", "--ipv4", "192.168.1.1"},
			[]string{"192.168.1.1"}},
		{"address in use",
			[]string{"nic", "create", "--network", "cli-dup", "--ipv4", "10.30.0.7"},
			[]string{"10.30.0.7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantContains(t, mvirtFails(t, exitFailure, tc.args...), tc.want...)
		})
	}
}

// TestUsageErrors checks that command lines mvirt rejects on its own exit 2
// and point to --help.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // in the message, ignoring case
	}{
		{"unknown command", []string{"netwerk", "list"}, "unknown command"},
		{"unknown flag", []string{"network", "list", "--colour"}, "unknown flag"},
		{"missing argument", []string{"network", "get"}, "arg"},
		{"network without name", []string{"network", "create", "--ipv4-subnet", "10.40.0.0/24"}, "name"},
		{"network without subnet", []string{"network", "create", "--name", "cli-nosubnet"}, "ipv4-subnet"},
		{"nic without network", []string{"nic", "create", "--name", "x"}, "network"},
		{"route not a CIDR", []string{"nic", "create", "--network", "cli-dup", "--route", "10.1.0.0"}, "10.1.0.0"},
		{"update without change", []string{"nic", "update", "cli-dup-eth0"}, "route"},
		{"routes and clear", []string{"nic", "update", "cli-dup-eth0", "--route", "10.1.0.0/24", "--clear-routes"}, "clear-routes"},
		{"network update without change", []string{"network", "update", "cli-dup"}, "dns"},
		{"bad output format", []string{"network", "list", "-o", "yaml"}, "yaml"},
		{"bad timeout", []string{"version", "--timeout", "soon"}, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runMvirt(t, nil, tc.args...)
			if r.code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, exitUsage, r.stderr)
			}
			wantContains(t, errorMessage(t, r), tc.want)
			wantContains(t, r.stderr, "--help")
		})
	}
}

// TestServerAndTimeout checks --server, MVIRT_NET_SERVER and --timeout.
func TestServerAndTimeout(t *testing.T) {
	unreachable := "MVIRT_NET_SERVER=127.0.0.1:1"

	r := runMvirt(t, []string{unreachable}, "version")
	if r.code != exitFailure {
		t.Fatalf("unreachable server: exit %d, want %d; stderr:\n%s", r.code, exitFailure, r.stderr)
	}
	wantContains(t, errorMessage(t, r), "cannot reach", "127.0.0.1:1")

	r = runMvirt(t, []string{unreachable}, "--server", mvirtd.Addr, "version")
	if r.code != 0 || strings.TrimSpace(r.stdout) == "" {
		t.Errorf("--server did not override %s: exit %d, stderr:\n%s", unreachable, r.code, r.stderr)
	}

	wantContains(t, mvirtFails(t, exitFailure, "version", "--timeout", "1ns"), "did not answer within 1ns")
}
