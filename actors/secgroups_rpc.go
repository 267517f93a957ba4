package actors

import (
	"errors"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"mvirt-net/persistence"
	"mvirt-net/rpc/netpb"
)

// receiveSecurityGroup answers the security-group requests and ignores
// any other message.
func (m *manager) receiveSecurityGroup(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *netpb.CreateSecurityGroupRequest:
		ctx.Respond(m.createGroup(msg))
	case *netpb.GetSecurityGroupRequest:
		ctx.Respond(m.getGroup(msg))
	case *netpb.ListSecurityGroupsRequest:
		ctx.Respond(m.listGroups())
	case *netpb.DeleteSecurityGroupRequest:
		ctx.Respond(m.deleteGroup(msg))
	case *netpb.AddSecurityGroupRuleRequest:
		ctx.Respond(m.addRule(msg))
	case *netpb.RemoveSecurityGroupRuleRequest:
		ctx.Respond(m.removeRule(msg))
	case *netpb.AttachSecurityGroupRequest:
		ctx.Respond(m.attachGroup(msg))
	case *netpb.DetachSecurityGroupRequest:
		ctx.Respond(m.detachGroup(msg))
	case nicConnections:
		m.forwardToNicNetwork(ctx, msg.nicID, func(id string) any { return nicConnections{nicID: id} })
	}
}

func groupNotFound(idOrName string) error {
	return status.Errorf(codes.NotFound, "security group %q not found", idOrName)
}

func (m *manager) createGroup(req *netpb.CreateSecurityGroupRequest) any {
	name, err := validName("security group", req.GetName(), true)
	if err != nil {
		return err
	}
	if len(req.GetDescription()) > maxDescriptionLen {
		return invalid("description is longer than %d bytes", maxDescriptionLen)
	}
	if _, taken := m.sg.names[name]; taken {
		return status.Errorf(codes.AlreadyExists, "security group %q already exists", name)
	}
	now := time.Now().UTC()
	g := &persistence.SecurityGroupRecord{
		ID: uuid.NewString(), Name: name, Description: req.GetDescription(), CreatedAt: now, UpdatedAt: now,
	}
	if err := m.Store.CreateSecurityGroup(g); err != nil {
		if errors.Is(err, persistence.ErrConflict) {
			return status.Errorf(codes.AlreadyExists, "security group %q already exists", name)
		}
		return storeFailed("store security group", err)
	}
	m.sg.add(g)
	m.Log.Info("security group created", "group", g.ID, "name", name)
	return groupView(g, 0)
}

func (m *manager) getGroup(req *netpb.GetSecurityGroupRequest) any {
	key := req.GetId() + req.GetName()
	if key == "" {
		return invalid("give a security group id or name")
	}
	e := m.sg.lookup(key)
	if e == nil {
		return groupNotFound(key)
	}
	return groupView(e.rec, len(e.nics))
}

func (m *manager) listGroups() any {
	out := &netpb.ListSecurityGroupsResponse{}
	for _, e := range m.sg.groups {
		out.SecurityGroups = append(out.SecurityGroups, groupView(e.rec, len(e.nics)))
	}
	sort.Slice(out.SecurityGroups, func(i, j int) bool { return out.SecurityGroups[i].Name < out.SecurityGroups[j].Name })
	return out
}

func (m *manager) deleteGroup(req *netpb.DeleteSecurityGroupRequest) any {
	if req.GetId() == "" {
		return invalid("id must name a security group")
	}
	e := m.sg.lookup(req.GetId())
	if e == nil {
		return groupNotFound(req.GetId())
	}
	if len(e.nics) > 0 && !req.GetForce() {
		return status.Errorf(codes.FailedPrecondition,
			"security group %q is attached to %d nic(s); detach it first or set force", e.rec.Name, len(e.nics))
	}
	nics := slices.Sorted(maps.Keys(e.nics))
	if err := m.Store.DeleteSecurityGroup(e.rec, nics); err != nil {
		return storeFailed("delete security group from store", err)
	}
	for _, nic := range nics {
		m.sg.detach(nic, e.rec.ID)
		m.publishFilter(nic)
	}
	for _, r := range e.rec.Rules {
		delete(m.sg.rules, r.ID)
	}
	delete(m.sg.names, e.rec.Name)
	delete(m.sg.groups, e.rec.ID)
	m.Log.Info("security group deleted", "group", e.rec.ID, "name", e.rec.Name, "nics_detached", len(nics))
	return &netpb.DeleteSecurityGroupResponse{Deleted: true, NicsDetached: uint32(len(nics))}
}

func (m *manager) addRule(req *netpb.AddSecurityGroupRuleRequest) any {
	if req.GetSecurityGroupId() == "" {
		return invalid("security_group_id must name a security group by id or name")
	}
	e := m.sg.lookup(req.GetSecurityGroupId())
	if e == nil {
		return groupNotFound(req.GetSecurityGroupId())
	}
	_, rule, err := validRule(req)
	if err != nil {
		return err
	}
	for _, r := range e.rec.Rules {
		if sameRule(r, rule) {
			return status.Errorf(codes.AlreadyExists, "security group %q already has this rule (%s)", e.rec.Name, r.ID)
		}
	}
	if len(e.rec.Rules) >= maxRulesPerGroup {
		return status.Errorf(codes.ResourceExhausted, "security group %q has %d rules, the most a group holds", e.rec.Name, maxRulesPerGroup)
	}
	now := time.Now().UTC()
	rule.ID, rule.CreatedAt, rule.UpdatedAt = uuid.NewString(), now, now
	g := *e.rec
	g.Rules = append(slices.Clone(e.rec.Rules), rule)
	g.UpdatedAt = now
	if err := m.Store.UpdateSecurityGroup(&g); err != nil {
		return storeFailed("store security group", err)
	}
	e.rec = &g
	m.sg.rules[rule.ID] = g.ID
	m.publishGroup(e)
	m.Log.Info("security group rule added", "group", g.ID, "rule", rule.ID, "direction", rule.Direction,
		"protocol", rule.Protocol, "ports", []uint16{rule.PortStart, rule.PortEnd}, "cidr", rule.CIDR)
	return ruleView(g.ID, rule)
}

func (m *manager) removeRule(req *netpb.RemoveSecurityGroupRuleRequest) any {
	if req.GetRuleId() == "" {
		return invalid("rule_id must name a rule")
	}
	groupID, ok := m.sg.rules[req.GetRuleId()]
	if !ok {
		return status.Errorf(codes.NotFound, "security group rule %q not found", req.GetRuleId())
	}
	e := m.sg.groups[groupID]
	g := *e.rec
	g.Rules = slices.DeleteFunc(slices.Clone(e.rec.Rules), func(r persistence.RuleRecord) bool { return r.ID == req.GetRuleId() })
	g.UpdatedAt = time.Now().UTC()
	if err := m.Store.UpdateSecurityGroup(&g); err != nil {
		return storeFailed("store security group", err)
	}
	e.rec = &g
	delete(m.sg.rules, req.GetRuleId())
	m.publishGroup(e)
	m.Log.Info("security group rule removed", "group", g.ID, "rule", req.GetRuleId())
	return &netpb.RemoveSecurityGroupRuleResponse{Deleted: true}
}

// attachment resolves the NIC and group of an attach or detach request.
func (m *manager) attachment(nicRef, groupRef string) (*netpb.Nic, *sgEntry, error) {
	switch {
	case nicRef == "":
		return nil, nil, invalid("nic_id must name a nic by id or name")
	case groupRef == "":
		return nil, nil, invalid("security_group_id must name a security group by id or name")
	}
	nic, err := m.lookupNic(nicRef, "")
	if err != nil {
		return nil, nil, err
	}
	e := m.sg.lookup(groupRef)
	if e == nil {
		return nil, nil, groupNotFound(groupRef)
	}
	return nic, e, nil
}

func (m *manager) attachGroup(req *netpb.AttachSecurityGroupRequest) any {
	nic, e, err := m.attachment(req.GetNicId(), req.GetSecurityGroupId())
	if err != nil {
		return err
	}
	if e.nics[nic.Id] {
		return &netpb.AttachSecurityGroupResponse{Attached: false}
	}
	if err := m.Store.AttachSecurityGroup(persistence.Attachment{NicID: nic.Id, GroupID: e.rec.ID}); err != nil {
		if errors.Is(err, persistence.ErrNotFound) {
			return nicNotFound(req.GetNicId())
		}
		return storeFailed("store security group attachment", err)
	}
	m.sg.attach(nic.Id, e.rec.ID)
	m.publishFilter(nic.Id)
	m.Log.Info("security group attached", "group", e.rec.ID, "nic", nic.Id)
	return &netpb.AttachSecurityGroupResponse{Attached: true}
}

func (m *manager) detachGroup(req *netpb.DetachSecurityGroupRequest) any {
	nic, e, err := m.attachment(req.GetNicId(), req.GetSecurityGroupId())
	if err != nil {
		return err
	}
	if !e.nics[nic.Id] {
		return &netpb.DetachSecurityGroupResponse{Detached: false}
	}
	if err := m.Store.DetachSecurityGroup(persistence.Attachment{NicID: nic.Id, GroupID: e.rec.ID}); err != nil {
		return storeFailed("delete security group attachment", err)
	}
	m.sg.detach(nic.Id, e.rec.ID)
	m.publishFilter(nic.Id)
	m.Log.Info("security group detached", "group", e.rec.ID, "nic", nic.Id)
	return &netpb.DetachSecurityGroupResponse{Detached: true}
}
