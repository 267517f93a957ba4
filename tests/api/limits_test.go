package api_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// maxErrorLen bounds an error message in these tests: whatever the
// request carried, the daemon repeats at most a short piece of it.
const maxErrorLen = 512

// hosts4 returns n distinct /32 prefixes in 10.200.0.0/16 and beyond.
func hosts4(n int) []string {
	out := make([]string, n)
	a := netip.MustParseAddr("10.200.0.0")
	for i := range out {
		a = a.Next()
		out[i] = netip.PrefixFrom(a, 32).String()
	}
	return out
}

// hosts6 returns n distinct /128 prefixes in fd99::/64.
func hosts6(n int) []string {
	out := make([]string, n)
	a := netip.MustParseAddr("fd99::")
	for i := range out {
		a = a.Next()
		out[i] = netip.PrefixFrom(a, 128).String()
	}
	return out
}

func servers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("198.51.100.%d", i+1)
	}
	return out
}

// wantShortInvalid checks err is InvalidArgument with a message of at most
// maxErrorLen bytes.
func wantShortInvalid(t *testing.T, err error) {
	t.Helper()
	wantCode(t, err, codes.InvalidArgument)
	if msg := status.Convert(err).Message(); len(msg) > maxErrorLen {
		t.Fatalf("error message is %d bytes long: %.200s…", len(msg), msg)
	}
}

// TestRequestLimits sends requests beyond each limit: each is refused with
// a short InvalidArgument and changes nothing; requests at the limit work.
func TestRequestLimits(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	c := d.Client
	n := mustNetwork(t, c, dual("prod"))
	a := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "vm-a"})
	big := grpc.MaxCallSendMsgSize(16 << 20)
	huge := strings.Repeat("x", 1<<20)

	cases := map[string]func() error{
		"CreateNic/50000 routed prefixes": func() error {
			_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: n.Id, RoutedIpv4Prefixes: hosts4(50000)}, big)
			return err
		},
		"CreateNic/1025 routed prefixes over both families": func() error {
			_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: n.Id,
				RoutedIpv4Prefixes: hosts4(513), RoutedIpv6Prefixes: hosts6(512)})
			return err
		},
		"UpdateNic/60000 routed prefixes": func() error {
			_, err := c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: a.Id, RoutedIpv6Prefixes: hosts6(60000)}, big)
			return err
		},
		"CreateNetwork/65 dns servers": func() error {
			req := dual("many-dns")
			req.DnsServers = servers(65)
			_, err := c.CreateNetwork(ctx(t), req)
			return err
		},
		"CreateNetwork/100000 dns servers": func() error {
			req := dual("many-dns")
			req.DnsServers = make([]string, 100000)
			for i := range req.DnsServers {
				req.DnsServers[i] = "1.1.1.1"
			}
			_, err := c.CreateNetwork(ctx(t), req, big)
			return err
		},
		"UpdateNetwork/65 ntp servers": func() error {
			_, err := c.UpdateNetwork(ctx(t), &netpb.UpdateNetworkRequest{Id: n.Id, NtpServers: servers(65)})
			return err
		},
		"CreateNetwork/1 MiB name": func() error {
			req := dual(huge)
			_, err := c.CreateNetwork(ctx(t), req, big)
			return err
		},
		"CreateNic/1 MiB name": func() error {
			_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: n.Id, Name: huge}, big)
			return err
		},
		"CreateNic/1 MiB mac": func() error {
			_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: n.Id, MacAddress: huge}, big)
			return err
		},
		"CreateNic/1 MiB address": func() error {
			_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: n.Id, Ipv4Address: huge}, big)
			return err
		},
		"CreateNic/1 MiB routed prefix": func() error {
			_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: n.Id, RoutedIpv6Prefixes: []string{huge}}, big)
			return err
		},
		"CreateNetwork/1 MiB subnet": func() error {
			_, err := c.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{Name: "x", Ipv4Enabled: true, Ipv4Subnet: huge}, big)
			return err
		},
		"CreateNetwork/1 MiB dns server": func() error {
			req := dual("x")
			req.DnsServers = []string{huge}
			_, err := c.CreateNetwork(ctx(t), req, big)
			return err
		},
	}
	before := snapshot(t, c)
	for name, call := range cases {
		t.Run(name, func(t *testing.T) { wantShortInvalid(t, call()) })
	}
	for name, call := range map[string]func() error{
		"GetNic/1 MiB name": func() error {
			_, err := c.GetNic(ctx(t), &netpb.GetNicRequest{Identifier: &netpb.GetNicRequest_Name{Name: huge}}, big)
			return err
		},
		"CreateNic/1 MiB network": func() error {
			_, err := c.CreateNic(ctx(t), &netpb.CreateNicRequest{NetworkId: huge}, big)
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := call()
			wantCode(t, err, codes.NotFound)
			if msg := status.Convert(err).Message(); len(msg) > maxErrorLen {
				t.Fatalf("error message is %d bytes long", len(msg))
			}
		})
	}
	if after := snapshot(t, c); !protoEqual(before, after) {
		t.Fatalf("refused requests changed state:\nbefore %v\nafter  %v", before, after)
	}

	t.Run("at the limits", func(t *testing.T) {
		b := mustNic(t, c, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "router",
			RoutedIpv4Prefixes: hosts4(512), RoutedIpv6Prefixes: hosts6(512)})
		if len(b.RoutedIpv4Prefixes)+len(b.RoutedIpv6Prefixes) != 1024 {
			t.Fatalf("nic routes %d+%d prefixes", len(b.RoutedIpv4Prefixes), len(b.RoutedIpv6Prefixes))
		}
		_, err := c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: a.Id, RoutedIpv4Prefixes: []string{"10.201.0.0/16"},
			RoutedIpv6Prefixes: hosts6(600)[88:]})
		if err == nil {
			t.Fatal("UpdateNic took prefixes of another nic")
		}
		wantCode(t, err, codes.AlreadyExists)
		up, err := c.UpdateNic(ctx(t), &netpb.UpdateNicRequest{Id: a.Id, RoutedIpv4Prefixes: hosts4(1536)[512:]})
		if err != nil || len(up.RoutedIpv4Prefixes) != 1024 {
			t.Fatalf("UpdateNic with 1024 prefixes: %v", err)
		}
		req := dual("many-dns")
		req.DnsServers, req.NtpServers = servers(64), servers(64)
		if got := mustNetwork(t, c, req); len(got.DnsServers) != 64 || len(got.NtpServers) != 64 {
			t.Fatalf("network with 64 dns and ntp servers: %v", got)
		}
	})
}
