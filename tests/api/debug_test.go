package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"mvirt-net/actors"
	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

func httpGet(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, res.StatusCode, err, b)
	}
	return string(b)
}

func TestDebugEndpoint(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	n := mustNetwork(t, d.Client, dual("prod"))
	nic := mustNic(t, d.Client, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "a"})
	mustNic(t, d.Client, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "b"})

	var root actors.ActorInfo
	if err := json.Unmarshal([]byte(httpGet(t, "http://"+d.DebugAddr+"/debug/actors")), &root); err != nil {
		t.Fatal(err)
	}
	if root.Kind != actors.KindManager || len(root.Children) != 2 {
		t.Fatalf("root: %+v", root)
	}
	kids := map[string]*actors.ActorInfo{}
	for _, c := range root.Children {
		kids[c.Kind] = c
	}
	if up := kids[actors.KindUplink]; up == nil || up.Uplink == nil || up.Uplink.Up || up.Uplink.Device != "mvirt0" {
		t.Fatalf("uplink actor without a public network: %+v", up)
	}
	netActor := kids[actors.KindNetwork]
	if netActor == nil {
		t.Fatalf("root without a network actor: %+v", root)
	}
	if netActor.Kind != actors.KindNetwork || netActor.NetworkID != n.Id || len(netActor.Children) != 2 {
		t.Fatalf("network actor: %+v", netActor)
	}
	found := false
	for _, c := range netActor.Children {
		if c.Kind != actors.KindNic || c.PID == "" {
			t.Fatalf("nic actor: %+v", c)
		}
		found = found || c.NicID == nic.Id
	}
	if !found {
		t.Fatalf("nic %s missing from %+v", nic.Id, netActor.Children)
	}

	metrics := httpGet(t, "http://"+d.DebugAddr+"/metrics")
	for _, want := range []string{
		"mvirt_net_networks 1",
		`mvirt_net_nics{state="created"} 2`,
		`mvirt_net_rpc_requests_total{code="OK",method="CreateNic"} 2`,
		"mvirt_net_rpc_duration_seconds_bucket",
		`mvirt_net_nic_tx_packets_total{network="` + n.Id + `",nic="` + nic.Id + `"} 0`,
		`mvirt_net_nic_drops_total{network="` + n.Id + `",nic="` + nic.Id + `",reason="spoofed_mac"} 0`,
		"mvirt_net_nic_reactor_restarts_total",
		`mvirt_net_uplink_up{device="mvirt0"} 0`,
		"go_goroutines",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if !strings.Contains(httpGet(t, "http://"+d.DebugAddr+"/debug/pprof/"), "goroutine") {
		t.Error("/debug/pprof/ index lacks profiles")
	}
}
