package e2e_test

import (
	"net/http"
	"testing"

	"mvirt-net/rpc/netpb"
)

// TestReactorCrash makes the NIC's reactor panic (the fault-injection
// hook) under a running guest: its NicActor restarts it, QEMU reconnects,
// and the guest's pings are answered again.
func TestReactorCrash(t *testing.T) {
	t.Parallel()
	underLoad(t, disruption{name: "reactor-crash", do: func(l *lab, nic *netpb.Nic) {
		res, err := http.Post("http://"+l.d.DebugAddr+"/debug/nics/"+nic.Id+"/panic", "", nil)
		if err != nil {
			l.t.Fatalf("panic hook: %v", err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			l.t.Fatalf("panic hook answered %s", res.Status)
		}
	}})
}
