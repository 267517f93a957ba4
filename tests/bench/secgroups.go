package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"mvirt-net/rpc/netpb"
)

// sgRules is the size of the benchmark's security group.
const sgRules = 100

// sgSizes are the frame sizes measured with a security group, of those
// the run measures.
var sgSizes = []int{64, 1500}

// sgResult is one size's throughput through NICs A and B without a
// security group and with one of sgRules rules attached to both, runs
// alternating so that both see the same moments of a shared machine.
type sgResult struct {
	Size           int
	Plain, Grouped []throughput
	GroupedDrops   map[string]uint64
	Note           string
	plainM, groupM *throughput
}

// sgGroup creates the benchmark's group: sgRules-1 TCP rules that the
// traffic does not match, and one that lets its UDP in.
func sgGroup(ctx context.Context, c netpb.NetServiceClient) (string, error) {
	g, err := c.CreateSecurityGroup(ctx, &netpb.CreateSecurityGroupRequest{Name: "bench-sg"})
	if err != nil {
		return "", fmt.Errorf("bench: create security group: %w", err)
	}
	add := func(r *netpb.AddSecurityGroupRuleRequest) error {
		r.SecurityGroupId, r.Direction = g.Id, netpb.RuleDirection_RULE_DIRECTION_INGRESS
		_, err := c.AddSecurityGroupRule(ctx, r)
		return err
	}
	for i := range sgRules - 1 {
		if err := add(&netpb.AddSecurityGroupRuleRequest{Protocol: netpb.RuleProtocol_RULE_PROTOCOL_TCP,
			PortStart: uint32(10000 + 10*i), PortEnd: uint32(10005 + 10*i), Cidr: fmt.Sprintf("198.51.100.%d/32", i)}); err != nil {
			return "", fmt.Errorf("bench: add rule: %w", err)
		}
	}
	if err := add(&netpb.AddSecurityGroupRuleRequest{Protocol: netpb.RuleProtocol_RULE_PROTOCOL_UDP, PortStart: 9001, Cidr: "10.0.0.0/24"}); err != nil {
		return "", fmt.Errorf("bench: add rule: %w", err)
	}
	return g.Id, nil
}

// sgAttach attaches (or detaches) group to both NICs.
func sgAttach(ctx context.Context, c netpb.NetServiceClient, nics []nicInfo, group string, attach bool) error {
	for _, n := range nics[:2] {
		var err error
		if attach {
			_, err = c.AttachSecurityGroup(ctx, &netpb.AttachSecurityGroupRequest{NicId: n.ID, SecurityGroupId: group})
		} else {
			_, err = c.DetachSecurityGroup(ctx, &netpb.DetachSecurityGroupRequest{NicId: n.ID, SecurityGroupId: group})
		}
		if err != nil {
			return fmt.Errorf("bench: attach %v: %w", attach, err)
		}
	}
	return nil
}

// sgRun measures every size cfg.Rounds times without and with the group.
func sgRun(o *ourDaemon, nics []nicInfo, cfg Config, w io.Writer) ([]*sgResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	group, err := sgGroup(ctx, o.d.Client)
	if err != nil {
		return nil, err
	}
	out := make([]*sgResult, 0, len(cfg.Sizes))
	for _, size := range cfg.Sizes {
		if slices.Contains(sgSizes, size) {
			out = append(out, &sgResult{Size: size, GroupedDrops: map[string]uint64{}})
		}
	}
	var errs []error
	for range cfg.Rounds {
		for _, s := range out {
			if err := sgOnce(o, nics, group, s, cfg, w); err != nil {
				s.Note = err.Error()
				errs = append(errs, fmt.Errorf("security group %d B: %w", s.Size, err))
			}
		}
	}
	for _, s := range out {
		s.plainM, s.groupM = medianRun(s.Plain), medianRun(s.Grouped)
	}
	return out, errors.Join(errs...)
}

func sgOnce(o *ourDaemon, nics []nicInfo, group string, s *sgResult, cfg Config, w io.Writer) error {
	plain, err := throughputOnce(socketsOf(nics), endpointsOf(nics), s.Size, cfg, o.cpu)
	if err != nil {
		return err
	}
	progress(w, "no sg", plain)
	s.Plain = append(s.Plain, plain)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sgAttach(ctx, o.d.Client, nics, group, true); err != nil {
		return err
	}
	before, err := o.dropCounts(nics[0].ID, nics[1].ID)
	if err != nil {
		return err
	}
	grouped, err := throughputOnce(socketsOf(nics), endpointsOf(nics), s.Size, cfg, o.cpu)
	if err != nil {
		return errors.Join(err, sgAttach(ctx, o.d.Client, nics, group, false))
	}
	after, err := o.dropCounts(nics[0].ID, nics[1].ID)
	if err != nil {
		return err
	}
	for k := range after {
		s.GroupedDrops[k] += after[k] - before[k]
	}
	progress(w, "sg 100", grouped)
	s.Grouped = append(s.Grouped, grouped)
	return sgAttach(ctx, o.d.Client, nics, group, false)
}

func medianRun(runs []throughput) *throughput {
	if len(runs) == 0 {
		return nil
	}
	sorted := slices.SortedFunc(slices.Values(runs), func(a, b throughput) int { return cmp.Compare(a.Mpps(), b.Mpps()) })
	return &sorted[len(sorted)/2]
}

// printSG writes one BENCH line per size: the median rate with the group
// against the median without.
func printSG(w io.Writer, res []*sgResult) {
	for _, s := range res {
		if s.Note != "" {
			fmt.Fprintf(w, "note: security group %d B: %s\n", s.Size, s.Note)
		}
		fmt.Fprintf(w, "BENCH sg_rules=%d size=%d ratio=%s sg_mpps=%s plain_mpps=%s sg_drops=%s\n", sgRules, s.Size,
			ratio(s.groupM, s.plainM, throughput.Mpps), num(s.groupM, throughput.Mpps), num(s.plainM, throughput.Mpps),
			formatCounts(s.GroupedDrops))
	}
}
