package persistence

import (
	"bytes"
	"encoding/json"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// TestRecordsRoundTrip encodes typed records and decodes them back equal,
// with the JSON form the store has always written.
func TestRecordsRoundTrip(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	n := NetworkRecord{ID: "n1", Name: "prod", IPv4Subnet: netip.MustParsePrefix("10.0.0.0/24"),
		DNSServers: []netip.Addr{netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("2001:db8::53")}, MTU: 9000, CreatedAt: now, UpdatedAt: now}
	b, err := json.Marshal(&n)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"n1","name":"prod","ipv4_subnet":"10.0.0.0/24","dns_servers":["1.1.1.1","2001:db8::53"],"mtu":9000,` +
		`"created_at":"2026-12-01T10:00:00Z","updated_at":"2026-12-01T10:00:00Z"}`
	if string(b) != want {
		t.Fatalf("network JSON\n got %s\nwant %s", b, want)
	}
	var n2 NetworkRecord
	if err := json.Unmarshal(b, &n2); err != nil || !reflect.DeepEqual(n, n2) {
		t.Fatalf("network round trip: %+v %v", n2, err)
	}

	c := NicRecord{ID: "a", NetworkID: "n1", MAC: mac("52:54:00:00:00:01"), IPv6Address: netip.MustParseAddr("fd00::1"),
		RoutedIPv6Prefixes: []netip.Prefix{netip.MustParsePrefix("fd01::/64")}, SocketPath: "/s/a.sock", CreatedAt: now, UpdatedAt: now}
	b, err = json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"mac":"52:54:00:00:00:01","ipv6_address":"fd00::1","routed_ipv6_prefixes":["fd01::/64"]`)) ||
		bytes.Contains(b, []byte("ipv4_address")) {
		t.Fatalf("nic JSON %s", b)
	}
	var c2 NicRecord
	if err := json.Unmarshal(b, &c2); err != nil || !reflect.DeepEqual(c, c2) {
		t.Fatalf("nic round trip: %+v %v", c2, err)
	}
}

// TestNetworkWithoutMTU decodes a network stored before networks had an
// MTU: it has the default one.
func TestNetworkWithoutMTU(t *testing.T) {
	var n NetworkRecord
	if err := decode("net/n1", []byte(`{"id":"n1","name":"prod","ipv6_prefix":"fd00::/64"}`), &n); err != nil {
		t.Fatal(err)
	}
	if n.MTU != DefaultMTU {
		t.Fatalf("mtu of an old record: %d, want %d", n.MTU, DefaultMTU)
	}
}

// TestBadStoredValues decodes records holding values that do not parse or
// make no sense: each fails, naming the record and the field.
func TestBadStoredValues(t *testing.T) {
	const nic = `{"id":"a","network_id":"n1","mac":"52:54:00:00:00:01","ipv4_address":"10.0.0.1","socket_path":"/s/a.sock"}`
	const network = `{"id":"n1","name":"prod","ipv4_subnet":"10.0.0.0/24"}`
	cases := []struct {
		name, key, json, from, to, want string
	}{
		{"mac", "nic/a", nic, `"52:54:00:00:00:01"`, `"52:54:zz:00:00:01"`, `mac "52:54:zz:00:00:01" does not parse`},
		{"multicast mac", "nic/a", nic, `"52:54:00:00:00:01"`, `"01:00:5e:00:00:01"`, "not a unicast 48-bit MAC"},
		{"long mac", "nic/a", nic, `"52:54:00:00:00:01"`, `"52:54:00:00:00:01:02:03"`, "not a unicast 48-bit MAC"},
		{"address", "nic/a", nic, `"10.0.0.1"`, `"10.0.0.300"`, `ipv4_address "10.0.0.300" does not parse`},
		{"address family", "nic/a", nic, `"10.0.0.1"`, `"fd00::1"`, "ipv4_address fd00::1 is not an IPv4 address"},
		{"routed prefix", "nic/a", nic, `"socket_path"`, `"routed_ipv6_prefixes":["fd00::/200"],"socket_path"`, `routed_ipv6_prefixes "fd00::/200" does not parse`},
		{"empty routed prefix", "nic/a", nic, `"socket_path"`, `"routed_ipv4_prefixes":[""],"socket_path"`, "routed_ipv4_prefixes"},
		{"no mac", "nic/a", nic, `"52:54:00:00:00:01"`, `""`, "lacks"},
		{"subnet", "net/n1", network, `"10.0.0.0/24"`, `"10.0.0.0/x"`, `ipv4_subnet "10.0.0.0/x" does not parse`},
		{"non-canonical subnet", "net/n1", network, `"10.0.0.0/24"`, `"10.0.0.1/24"`, "host bits"},
		{"dns server", "net/n1", network, `"name"`, `"dns_servers":["1.1.1"],"name"`, `dns_servers "1.1.1" does not parse`},
		{"mtu too small", "net/n1", network, `"name"`, `"mtu":575,"name"`, "mtu 575 is outside 576-9000"},
		{"mtu too large", "net/n1", network, `"name"`, `"mtu":9001,"name"`, "mtu 9001 is outside 576-9000"},
		{"mtu below the IPv6 minimum", "net/n1", network, `"ipv4_subnet":"10.0.0.0/24"`, `"ipv6_prefix":"fd00::/64","mtu":1000`, "mtu 1000 is outside 1280-9000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := strings.Replace(tc.json, tc.from, tc.to, 1)
			var r record = &NicRecord{}
			kind := "nic a"
			if strings.HasPrefix(tc.key, "net/") {
				r, kind = &NetworkRecord{}, "network n1"
			}
			err := decode(tc.key, []byte(b), r)
			if err == nil || !strings.Contains(err.Error(), kind) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("decode %s: got %v, want an error naming %q and saying %q", b, err, kind, tc.want)
			}
		})
	}
}

// TestNicOutsideItsNetwork stores a NIC whose address lies outside its
// network's subnet: Load fails, naming the NIC.
func TestNicOutsideItsNetwork(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	if err := s.CreateNetwork(&NetworkRecord{ID: "n1", Name: "prod", IPv4Subnet: netip.MustParsePrefix("10.0.0.0/24")}); err != nil {
		t.Fatal(err)
	}
	nic := &NicRecord{ID: "a", NetworkID: "n1", MAC: mac("52:54:00:00:00:01"), IPv4Address: netip.MustParseAddr("10.0.1.1"), SocketPath: "/s/a.sock"}
	if err := s.PutNic(nic, nil); err != nil {
		t.Fatal(err)
	}
	_, err := s.Load()
	if err == nil || !strings.Contains(err.Error(), "stored nic a does not fit") || !strings.Contains(err.Error(), "10.0.1.1") {
		t.Fatalf("load of a nic outside its subnet: %v", err)
	}
}
