package cli_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"mvirt-net/rpc/netpb"
)

// TestNetworkCreateGetList creates networks of each address family and
// reads them back by name and id, as JSON and as tables.
func TestNetworkCreateGetList(t *testing.T) {
	var n netpb.Network
	mvirtJSON(t, &n, "network", "create", "--name", "cli-dual",
		"--ipv4-subnet", "10.10.0.0/24", "--ipv6-prefix", "fd00:10::/64",
		"--dns", "1.1.1.1", "--dns", "9.9.9.9,2606:4700:4700::1111", "--ntp", "162.159.200.1")
	if _, err := uuid.Parse(n.GetId()); err != nil {
		t.Errorf("id %q is not a UUID: %v", n.GetId(), err)
	}
	if n.GetName() != "cli-dual" || !n.GetIpv4Enabled() || n.GetIpv4Subnet() != "10.10.0.0/24" ||
		!n.GetIpv6Enabled() || n.GetIpv6Prefix() != "fd00:10::/64" || n.GetIsPublic() {
		t.Errorf("created network = %v", &n)
	}
	if want := []string{"1.1.1.1", "9.9.9.9", "2606:4700:4700::1111"}; !slices.Equal(n.GetDnsServers(), want) {
		t.Errorf("dns_servers = %q, want %q", n.GetDnsServers(), want)
	}
	if want := []string{"162.159.200.1"}; !slices.Equal(n.GetNtpServers(), want) {
		t.Errorf("ntp_servers = %q, want %q", n.GetNtpServers(), want)
	}

	var v4 netpb.Network
	mvirtJSON(t, &v4, "network", "create", "--name", "cli-v4", "--ipv4-subnet", "10.11.0.0/24", "--public")
	if !v4.GetIpv4Enabled() || v4.GetIpv6Enabled() || v4.GetIpv6Prefix() != "" || !v4.GetIsPublic() {
		t.Errorf("IPv4-only public network = %v", &v4)
	}
	var v6 netpb.Network
	mvirtJSON(t, &v6, "network", "create", "--name", "cli-v6", "--ipv6-prefix", "fd00:12::/64")
	if v6.GetIpv4Enabled() || v6.GetIpv4Subnet() != "" || !v6.GetIpv6Enabled() {
		t.Errorf("IPv6-only network = %v", &v6)
	}

	t.Run("get by name and by id", func(t *testing.T) {
		var byName, byID netpb.Network
		mvirtJSON(t, &byName, "network", "get", "cli-dual")
		mvirtJSON(t, &byID, "network", "get", n.GetId())
		if byName.GetId() != n.GetId() || byID.GetName() != "cli-dual" {
			t.Errorf("get by name gave id %q, by id gave name %q; want %q, %q", byName.GetId(), byID.GetName(), n.GetId(), "cli-dual")
		}
	})

	t.Run("json uses the proto field names", func(t *testing.T) {
		var fields map[string]any
		decodeJSON(t, mvirt(t, "network", "get", "cli-v4", "-o", "json"), &fields)
		got := slices.Sorted(maps.Keys(fields))
		want := []string{"created_at", "dns_servers", "id", "ipv4_enabled", "ipv4_subnet", "ipv6_enabled",
			"ipv6_prefix", "is_public", "mtu", "name", "nic_count", "ntp_servers", "updated_at", "uplink"}
		if !slices.Equal(got, want) {
			t.Errorf("JSON keys = %q, want %q", got, want)
		}
	})

	t.Run("a public network shows its uplink", func(t *testing.T) {
		if out := mvirt(t, "network", "get", "cli-v4"); !strings.Contains(out, "up (mvirt0)") {
			t.Errorf("network get of a public network does not show its uplink up:\n%s", out)
		}
		if out := mvirt(t, "network", "get", "cli-dual"); strings.Contains(out, "Uplink") {
			t.Errorf("network get of a network that is not public shows an uplink:\n%s", out)
		}
	})

	t.Run("get as table", func(t *testing.T) {
		out := mvirt(t, "network", "get", "cli-dual")
		for label, want := range map[string]string{
			"ID":          n.GetId(),
			"Name":        "cli-dual",
			"IPv4 subnet": "10.10.0.0/24",
			"IPv6 prefix": "fd00:10::/64",
			"DNS servers": "1.1.1.1, 9.9.9.9, 2606:4700:4700::1111",
			"NTP servers": "162.159.200.1",
			"MTU":         "1500",
			"Public":      "no",
			"vNICs":       "0",
		} {
			if got := detailField(t, out, label); got != want {
				t.Errorf("%s: %q, want %q", label, got, want)
			}
		}
	})

	t.Run("list", func(t *testing.T) {
		var resp netpb.ListNetworksResponse
		mvirtJSON(t, &resp, "network", "list")
		names := map[string]string{}
		for _, x := range resp.GetNetworks() {
			names[x.GetName()] = x.GetId()
		}
		for _, want := range []*netpb.Network{&n, &v4, &v6} {
			if names[want.GetName()] != want.GetId() {
				t.Errorf("list has %q as %q, want %q", want.GetName(), names[want.GetName()], want.GetId())
			}
		}

		table := mvirt(t, "network", "list")
		row := tableRow(t, table, v4.GetId())
		want := map[string]string{"ID": v4.GetId(), "NAME": "cli-v4", "IPV4 SUBNET": "10.11.0.0/24",
			"IPV6 PREFIX": "-", "MTU": "1500", "NICS": "0", "PUBLIC": "yes"}
		if !maps.Equal(row, want) {
			t.Errorf("table row = %q, want %q", row, want)
		}
	})
}

// TestNetworkUpdate checks that --dns, --ntp and their --clear-* flags
// replace one list and keep the other.
func TestNetworkUpdate(t *testing.T) {
	mvirt(t, "network", "create", "--name", "cli-upd", "--ipv4-subnet", "10.13.0.0/24",
		"--dns", "1.1.1.1", "--ntp", "162.159.200.1")

	var n netpb.Network
	mvirtJSON(t, &n, "network", "update", "cli-upd", "--dns", "8.8.8.8,8.8.4.4")
	if !slices.Equal(n.GetDnsServers(), []string{"8.8.8.8", "8.8.4.4"}) || !slices.Equal(n.GetNtpServers(), []string{"162.159.200.1"}) {
		t.Errorf("after --dns: dns %q ntp %q; want the new DNS servers and the NTP server kept", n.GetDnsServers(), n.GetNtpServers())
	}

	mvirtJSON(t, &n, "network", "update", n.GetId(), "--clear-ntp")
	if !slices.Equal(n.GetDnsServers(), []string{"8.8.8.8", "8.8.4.4"}) || len(n.GetNtpServers()) != 0 {
		t.Errorf("after --clear-ntp: dns %q ntp %q; want the DNS servers kept and no NTP server", n.GetDnsServers(), n.GetNtpServers())
	}

	out := mvirt(t, "network", "update", "cli-upd", "--ntp", "10.0.0.123", "--clear-dns")
	if got := detailField(t, out, "DNS servers"); got != "-" {
		t.Errorf("DNS servers after --clear-dns: %q", got)
	}
	if got := detailField(t, out, "NTP servers"); got != "10.0.0.123" {
		t.Errorf("NTP servers after --ntp: %q", got)
	}

	var got netpb.Network
	mvirtJSON(t, &got, "network", "get", "cli-upd")
	if len(got.GetDnsServers()) != 0 || !slices.Equal(got.GetNtpServers(), []string{"10.0.0.123"}) {
		t.Errorf("stored after update: dns %q ntp %q", got.GetDnsServers(), got.GetNtpServers())
	}
}

// TestNetworkMTU creates a network with --mtu, shows it in get and list,
// changes it with update --mtu (keeping the servers), and refuses MTUs out
// of range: the daemon with its message, 0 the CLI itself.
func TestNetworkMTU(t *testing.T) {
	var n netpb.Network
	mvirtJSON(t, &n, "network", "create", "--name", "cli-mtu", "--ipv4-subnet", "10.15.0.0/24",
		"--ipv6-prefix", "fd00:15::/64", "--dns", "1.1.1.1", "--mtu", "9000")
	if n.GetMtu() != 9000 {
		t.Errorf("created with --mtu 9000: mtu %d", n.GetMtu())
	}
	if got := detailField(t, mvirt(t, "network", "get", "cli-mtu"), "MTU"); got != "9000" {
		t.Errorf("network get shows MTU %q, want 9000", got)
	}
	if row := tableRow(t, mvirt(t, "network", "list"), n.GetId()); row["MTU"] != "9000" {
		t.Errorf("network list row %q, want MTU 9000", row)
	}

	mvirtJSON(t, &n, "network", "update", "cli-mtu", "--mtu", "1400")
	if n.GetMtu() != 1400 || !slices.Equal(n.GetDnsServers(), []string{"1.1.1.1"}) {
		t.Errorf("after --mtu 1400: mtu %d dns %q; want 1400 and the DNS server kept", n.GetMtu(), n.GetDnsServers())
	}
	mvirtJSON(t, &n, "network", "update", "cli-mtu", "--dns", "9.9.9.9")
	if n.GetMtu() != 1400 {
		t.Errorf("update without --mtu changed the mtu to %d", n.GetMtu())
	}

	wantContains(t, mvirtFails(t, 1, "network", "update", "cli-mtu", "--mtu", "1000"), "mtu 1000 is outside 1280-9000")
	wantContains(t, mvirtFails(t, 2, "network", "update", "cli-mtu", "--mtu", "0"), "--mtu")
	wantContains(t, mvirtFails(t, 1, "network", "create", "--name", "cli-mtu-bad", "--ipv4-subnet", "10.16.0.0/24",
		"--mtu", "9001"), "mtu 9001 is outside 576-9000")
	mvirtJSON(t, &n, "network", "get", "cli-mtu")
	if n.GetMtu() != 1400 {
		t.Errorf("refused updates left mtu %d, want 1400", n.GetMtu())
	}
}

// TestNetworkDelete deletes networks by name and by id.
func TestNetworkDelete(t *testing.T) {
	var n netpb.Network
	mvirtJSON(t, &n, "network", "create", "--name", "cli-del-name", "--ipv4-subnet", "10.14.0.0/24")
	out := mvirt(t, "network", "delete", "cli-del-name")
	wantContains(t, out, "cli-del-name", n.GetId())
	wantContains(t, mvirtFails(t, 1, "network", "get", "cli-del-name"), "not found")

	mvirtJSON(t, &n, "network", "create", "--name", "cli-del-id", "--ipv4-subnet", "10.14.0.0/24")
	var resp netpb.DeleteNetworkResponse
	mvirtJSON(t, &resp, "network", "delete", n.GetId())
	if !resp.GetDeleted() || resp.GetNicsDeleted() != 0 {
		t.Errorf("delete response = %v", &resp)
	}
	wantContains(t, mvirtFails(t, 1, "network", "get", n.GetId()), "not found")
}
