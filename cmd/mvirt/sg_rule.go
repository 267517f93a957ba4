package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"mvirt-net/rpc/netpb"
)

// newSgRuleCmd builds `mvirt sg rule` and its subcommands.
func newSgRuleCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rule",
		Short: "Add and remove the rules of a security group",
		Long: `Rules allow; there are no deny rules. A rule has a direction (ingress: to
the VM, egress: from the VM), a protocol, for TCP and UDP a destination
port range, and a CIDR of the other side (empty: anywhere; an IPv4 CIDR
matches only IPv4, an IPv6 one only IPv6).`,
	}
	cmd.AddCommand(newSgRuleAddCmd(a), newSgRuleRemoveCmd(a))
	return cmd
}

// newSgRuleAddCmd builds `mvirt sg rule add`.
func newSgRuleAddCmd(a *app) *cobra.Command {
	req := &netpb.AddSecurityGroupRuleRequest{}
	var direction, protocol, ports string
	cmd := &cobra.Command{
		Use:   "add GROUP --direction ingress|egress --protocol all|tcp|udp|icmp|icmpv6 [--ports P|P-Q] [--cidr CIDR]",
		Short: "Add a rule to a security group",
		Long: `Add an allow rule to a security group, named by its UUID or its name, and
print it. --ports is a port (80) or a range (8000-8100) and only applies to
TCP and UDP; without it the rule covers every port. The rule applies at
once to new connections of every vNIC the group is attached to.`,
		Example: `  # HTTP from anywhere, SSH from the office
  mvirt sg rule add web --direction ingress --protocol tcp --ports 80
  mvirt sg rule add web --direction ingress --protocol tcp --ports 22 --cidr 203.0.113.0/24

  # ping over IPv4 and IPv6, a port range over UDP
  mvirt sg rule add web --direction ingress --protocol icmp
  mvirt sg rule add web --direction ingress --protocol icmpv6
  mvirt sg rule add web --direction ingress --protocol udp --ports 8000-8100

  # only DNS may leave
  mvirt sg rule add web --direction egress --protocol udp --ports 53 --cidr 10.0.0.53/32`,
		Args: cobra.ExactArgs(1),
		RunE: a.run(func(ctx context.Context, s *session, args []string) error {
			d, ok := netpb.RuleDirection_value["RULE_DIRECTION_"+strings.ToUpper(direction)]
			if !ok || d == 0 {
				return usageErrorf("invalid --direction %q: want ingress or egress", direction)
			}
			p, ok := netpb.RuleProtocol_value["RULE_PROTOCOL_"+strings.ToUpper(protocol)]
			if !ok || p == 0 {
				return usageErrorf("invalid --protocol %q: want all, tcp, udp, icmp or icmpv6", protocol)
			}
			start, end, err := parsePorts(ports)
			if err != nil {
				return err
			}
			req.SecurityGroupId = args[0]
			req.Direction, req.Protocol = netpb.RuleDirection(d), netpb.RuleProtocol(p)
			req.PortStart, req.PortEnd = start, end
			r, err := s.net.AddSecurityGroupRule(ctx, req)
			if err != nil {
				return err
			}
			return s.show(r, func(w io.Writer) {
				ruleHeader(w)
				ruleRow(w, r)
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&direction, "direction", "", "ingress (to the VM) or egress (from the VM) (required)")
	f.StringVar(&protocol, "protocol", "", "all, tcp, udp, icmp or icmpv6 (required)")
	f.StringVar(&ports, "ports", "", "TCP or UDP destination port or range, e.g. 80 or 8000-8100 (default: every port)")
	f.StringVar(&req.Cidr, "cidr", "", "CIDR of the other side, e.g. 203.0.113.0/24 (default: anywhere)")
	f.StringVar(&req.Description, "description", "", "what the rule is for")
	mustMark(cmd.MarkFlagRequired("direction"))
	mustMark(cmd.MarkFlagRequired("protocol"))
	return cmd
}

// parsePorts parses --ports: "" (every port), "80" or "8000-8100".
func parsePorts(s string) (uint32, uint32, error) {
	if s == "" {
		return 0, 0, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	start, err := strconv.ParseUint(lo, 10, 16)
	if err != nil || start == 0 {
		return 0, 0, usageErrorf("invalid --ports %q: want a port from 1 to 65535 or a range like 8000-8100", s)
	}
	if !isRange {
		return uint32(start), 0, nil
	}
	end, err := strconv.ParseUint(hi, 10, 16)
	if err != nil || end < start {
		return 0, 0, usageErrorf("invalid --ports %q: want a range like 8000-8100, low to high", s)
	}
	return uint32(start), uint32(end), nil
}

// newSgRuleRemoveCmd builds `mvirt sg rule remove`.
func newSgRuleRemoveCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "remove RULE_ID",
		Aliases: []string{"rm"},
		Short:   "Remove a rule from its security group",
		Long: `Remove a rule, named by its UUID (mvirt sg get GROUP lists them). New
connections it allowed are refused from then on; tracked ones keep flowing.`,
		Example: `  mvirt sg rule remove 5f0e2a9c-8d41-4b6e-a1f3-2c7d9e8b4a10`,
		Args:    cobra.ExactArgs(1),
		RunE: a.run(func(ctx context.Context, s *session, args []string) error {
			resp, err := s.net.RemoveSecurityGroupRule(ctx, &netpb.RemoveSecurityGroupRuleRequest{RuleId: args[0]})
			if err != nil {
				return err
			}
			if !resp.GetDeleted() {
				return fmt.Errorf("mvirt-net did not remove rule %s", args[0])
			}
			return s.show(resp, func(w io.Writer) { fmt.Fprintf(w, "Removed rule %s\n", args[0]) })
		}),
	}
}
