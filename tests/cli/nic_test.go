package cli_test

import (
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"mvirt-net/rpc/netpb"
)

// TestNicLifecycle creates, reads, lists, updates and deletes vNICs, and
// deletes their network with and without --force.
func TestNicLifecycle(t *testing.T) {
	var network netpb.Network
	mvirtJSON(t, &network, "network", "create", "--name", "cli-nics",
		"--ipv4-subnet", "10.20.0.0/24", "--ipv6-prefix", "fd00:20::/64")
	subnet4 := netip.MustParsePrefix("10.20.0.0/24")
	subnet6 := netip.MustParsePrefix("fd00:20::/64")

	var auto netpb.Nic
	mvirtJSON(t, &auto, "nic", "create", "--network", "cli-nics", "--name", "cli-vm1-eth0")
	if auto.GetNetworkId() != network.GetId() || auto.GetName() != "cli-vm1-eth0" {
		t.Errorf("nic created by network name = %v", &auto)
	}
	if a := addr(t, auto.GetIpv4Address()); !subnet4.Contains(a) {
		t.Errorf("ipv4_address %s is not in %s", a, subnet4)
	}
	if a := addr(t, auto.GetIpv6Address()); !subnet6.Contains(a) {
		t.Errorf("ipv6_address %s is not in %s", a, subnet6)
	}
	if _, err := net.ParseMAC(auto.GetMacAddress()); err != nil {
		t.Errorf("mac_address: %v", err)
	}
	if auto.GetSocketPath() == "" || auto.GetState() != netpb.NicState_NIC_STATE_CREATED {
		t.Errorf("socket_path %q state %v, want a socket and NIC_STATE_CREATED", auto.GetSocketPath(), auto.GetState())
	}

	var fixed netpb.Nic
	mvirtJSON(t, &fixed, "nic", "create", "--network", network.GetId(), "--name", "cli-router-eth0",
		"--mac", "52:54:00:12:34:56", "--ipv4", "10.20.0.50", "--ipv6", "fd00:20::50",
		"--route", "10.99.0.0/24", "--route", "fd00:99::/64", "--route", "10.98.0.0/16")
	if !strings.EqualFold(fixed.GetMacAddress(), "52:54:00:12:34:56") ||
		addr(t, fixed.GetIpv4Address()) != netip.MustParseAddr("10.20.0.50") ||
		addr(t, fixed.GetIpv6Address()) != netip.MustParseAddr("fd00:20::50") {
		t.Errorf("nic with requested MAC and addresses = %v", &fixed)
	}
	wantRoutes(t, &fixed, []string{"10.99.0.0/24", "10.98.0.0/16"}, []string{"fd00:99::/64"})

	t.Run("get by name and by id", func(t *testing.T) {
		var byName, byID netpb.Nic
		mvirtJSON(t, &byName, "nic", "get", "cli-router-eth0")
		mvirtJSON(t, &byID, "nic", "get", fixed.GetId())
		if byName.GetId() != fixed.GetId() || byID.GetName() != "cli-router-eth0" {
			t.Errorf("get by name gave id %q, by id gave name %q", byName.GetId(), byID.GetName())
		}
	})

	t.Run("get as table", func(t *testing.T) {
		out := mvirt(t, "nic", "get", "cli-router-eth0")
		for label, want := range map[string]string{
			"ID":          fixed.GetId(),
			"Name":        "cli-router-eth0",
			"Network":     network.GetId(),
			"MAC":         fixed.GetMacAddress(),
			"IPv4":        fixed.GetIpv4Address(),
			"IPv6":        fixed.GetIpv6Address(),
			"Routed IPv4": "10.99.0.0/24, 10.98.0.0/16",
			"Routed IPv6": "fd00:99::/64",
			"Socket":      fixed.GetSocketPath(),
			"State":       "created",
		} {
			if got := detailField(t, out, label); got != want {
				t.Errorf("%s: %q, want %q", label, got, want)
			}
		}
	})

	t.Run("list", func(t *testing.T) {
		mvirt(t, "network", "create", "--name", "cli-nics-other", "--ipv6-prefix", "fd00:21::/64")
		var other netpb.Nic
		mvirtJSON(t, &other, "nic", "create", "--network", "cli-nics-other")
		if other.GetIpv4Address() != "" {
			t.Errorf("nic of an IPv6-only network has IPv4 address %q", other.GetIpv4Address())
		}

		var resp netpb.ListNicsResponse
		mvirtJSON(t, &resp, "nic", "list", "--network", "cli-nics")
		if got, want := nicIDs(&resp), []string{auto.GetId(), fixed.GetId()}; !sameSet(got, want) {
			t.Errorf("nic list --network cli-nics = %q, want %q", got, want)
		}
		mvirtJSON(t, &resp, "nic", "list")
		for _, id := range []string{auto.GetId(), fixed.GetId(), other.GetId()} {
			if !slices.Contains(nicIDs(&resp), id) {
				t.Errorf("nic list misses %s", id)
			}
		}

		table := mvirt(t, "nic", "list", "--network", "cli-nics-other")
		row := tableRow(t, table, other.GetId())
		want := map[string]string{"ID": other.GetId(), "NAME": "-", "NETWORK": other.GetNetworkId(),
			"MAC": other.GetMacAddress(), "IPV4": "-", "IPV6": other.GetIpv6Address(), "STATE": "created"}
		if !maps.Equal(row, want) {
			t.Errorf("table row = %q, want %q", row, want)
		}

		var n netpb.Network
		mvirtJSON(t, &n, "network", "get", "cli-nics")
		if n.GetNicCount() != 2 {
			t.Errorf("nic_count = %d, want 2", n.GetNicCount())
		}
	})

	t.Run("update routes", func(t *testing.T) {
		var n netpb.Nic
		mvirtJSON(t, &n, "nic", "update", "cli-router-eth0", "--route", "fd00:77::/64")
		wantRoutes(t, &n, nil, []string{"fd00:77::/64"})
		mvirtJSON(t, &n, "nic", "update", fixed.GetId(), "--route", "10.77.0.0/24", "--route", "fd00:78::/64")
		wantRoutes(t, &n, []string{"10.77.0.0/24"}, []string{"fd00:78::/64"})
		out := mvirt(t, "nic", "update", "cli-router-eth0", "--clear-routes")
		if v4, v6 := detailField(t, out, "Routed IPv4"), detailField(t, out, "Routed IPv6"); v4 != "-" || v6 != "-" {
			t.Errorf("after --clear-routes: routed IPv4 %q, IPv6 %q", v4, v6)
		}
		mvirtJSON(t, &n, "nic", "get", "cli-router-eth0")
		wantRoutes(t, &n, nil, nil)
	})

	t.Run("delete", func(t *testing.T) {
		var resp netpb.DeleteNicResponse
		mvirtJSON(t, &resp, "nic", "delete", "cli-vm1-eth0")
		if !resp.GetDeleted() {
			t.Errorf("delete response = %v", &resp)
		}
		wantContains(t, mvirtFails(t, 1, "nic", "get", auto.GetId()), "not found")

		mvirtFails(t, 1, "network", "delete", "cli-nics")
		mvirtJSON(t, &network, "network", "get", "cli-nics")
		if network.GetNicCount() != 1 {
			t.Errorf("network delete without --force changed nic_count to %d", network.GetNicCount())
		}
		var del netpb.DeleteNetworkResponse
		mvirtJSON(t, &del, "network", "delete", "cli-nics", "--force")
		if !del.GetDeleted() || del.GetNicsDeleted() != 1 {
			t.Errorf("network delete --force = %v, want deleted with 1 nic", &del)
		}
		wantContains(t, mvirtFails(t, 1, "nic", "get", "cli-router-eth0"), "not found")
	})
}

// wantRoutes checks the routed prefixes of a NIC, in any order.
func wantRoutes(t *testing.T, n *netpb.Nic, v4, v6 []string) {
	t.Helper()
	if !sameSet(n.GetRoutedIpv4Prefixes(), v4) || !sameSet(n.GetRoutedIpv6Prefixes(), v6) {
		t.Errorf("routed prefixes %q %q, want %q %q", n.GetRoutedIpv4Prefixes(), n.GetRoutedIpv6Prefixes(), v4, v6)
	}
}

// nicIDs lists the ids of a ListNics answer.
func nicIDs(resp *netpb.ListNicsResponse) []string {
	var ids []string
	for _, n := range resp.GetNics() {
		ids = append(ids, n.GetId())
	}
	return ids
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
