package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"mvirt-net/rpc/netpb"
)

// newNetworkUpdateCmd builds `mvirt network update`.
func newNetworkUpdateCmd(a *app) *cobra.Command {
	var (
		dns, ntp           []string
		clearDNS, clearNTP bool
		mtu                uint32
	)
	cmd := &cobra.Command{
		Use:   "update NETWORK [--dns IP... | --clear-dns] [--ntp IP... | --clear-ntp] [--mtu N]",
		Short: "Change the DNS and NTP servers or the MTU of a network",
		Long: `Change the DNS and NTP servers a network announces to its VMs, or its MTU.
The network is named by its UUID or its name.

--dns replaces the DNS servers with the ones given and --ntp the NTP
servers; --clear-dns and --clear-ntp remove them all. A list that no flag
mentions stays as it is.

--mtu sets the network's IP MTU (1280-9000, 576-9000 without IPv6). It
applies at once: larger packets are answered fragmentation needed /
packet too big from then on, and the next DHCPv4 answer and Router
Advertisement announce it; a VM takes it up when it renews its lease or
hears the next RA. Without --mtu the MTU stays as it is.`,
		Example: `  # replace the DNS servers, keep the NTP servers
  mvirt network update prod --dns 9.9.9.9 --dns 2620:fe::fe

  # new NTP server, no DNS servers any more
  mvirt network update prod --ntp 162.159.200.1 --clear-dns

  # jumbo frames
  mvirt network update prod --mtu 9000`,
		Args: cobra.ExactArgs(1),
	}
	f := cmd.Flags()
	f.StringSliceVar(&dns, "dns", nil, "DNS server to announce instead of the current ones (repeatable, comma-separated)")
	f.StringSliceVar(&ntp, "ntp", nil, "NTP server to announce instead of the current ones (repeatable, comma-separated)")
	f.BoolVar(&clearDNS, "clear-dns", false, "announce no DNS servers")
	f.BoolVar(&clearNTP, "clear-ntp", false, "announce no NTP servers")
	f.Uint32Var(&mtu, "mtu", 0, "new IP MTU of the network, 1280-9000 (576-9000 without IPv6)")
	cmd.RunE = a.run(func(ctx context.Context, s *session, args []string) error {
		if f.Changed("mtu") && mtu == 0 {
			return usageErrorf("invalid --mtu 0: give the new MTU, 1280-9000 (576-9000 without IPv6)")
		}
		n, err := getNetwork(ctx, s.net, args[0])
		if err != nil {
			return err
		}
		// The daemon replaces both lists: send back those no flag mentions.
		req := &netpb.UpdateNetworkRequest{Id: n.GetId(), DnsServers: dns, NtpServers: ntp, Mtu: mtu}
		if !f.Changed("dns") && !clearDNS {
			req.DnsServers = n.GetDnsServers()
		}
		if !f.Changed("ntp") && !clearNTP {
			req.NtpServers = n.GetNtpServers()
		}
		n, err = s.net.UpdateNetwork(ctx, req)
		if err != nil {
			return err
		}
		return s.show(n, func(w io.Writer) { networkDetails(w, n) })
	})
	cmd.MarkFlagsOneRequired("dns", "ntp", "clear-dns", "clear-ntp", "mtu")
	cmd.MarkFlagsMutuallyExclusive("dns", "clear-dns")
	cmd.MarkFlagsMutuallyExclusive("ntp", "clear-ntp")
	return cmd
}
