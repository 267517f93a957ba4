package e2e_test

import (
	"testing"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// TestDaemonRestart SIGKILLs the daemon under a running guest and starts
// it again on the same folders: QEMU reconnects to the same socket path,
// the guest renews and keeps its addresses, and its pings are answered
// again.
func TestDaemonRestart(t *testing.T) {
	t.Parallel()
	underLoad(t, disruption{name: "daemon-restart", mustDrop: true, do: func(l *lab, _ *netpb.Nic) {
		l.d.Kill()
		l.d = daemon.Start(l.t, l.d.Dirs(), "--fault-injection")
	}})
}
