package rpc

import (
	"context"

	"mvirt-net/rpc/netpb"
)

// CreateSecurityGroup creates an empty security group.
func (s *Server) CreateSecurityGroup(ctx context.Context, req *netpb.CreateSecurityGroupRequest) (*netpb.SecurityGroup, error) {
	return ask[*netpb.SecurityGroup](ctx, s, req)
}

// GetSecurityGroup returns a security group by id or name.
func (s *Server) GetSecurityGroup(ctx context.Context, req *netpb.GetSecurityGroupRequest) (*netpb.SecurityGroup, error) {
	return ask[*netpb.SecurityGroup](ctx, s, req)
}

// ListSecurityGroups returns every security group.
func (s *Server) ListSecurityGroups(ctx context.Context, req *netpb.ListSecurityGroupsRequest) (*netpb.ListSecurityGroupsResponse, error) {
	return ask[*netpb.ListSecurityGroupsResponse](ctx, s, req)
}

// DeleteSecurityGroup deletes a security group (and with force detaches it
// from its NICs first).
func (s *Server) DeleteSecurityGroup(ctx context.Context, req *netpb.DeleteSecurityGroupRequest) (*netpb.DeleteSecurityGroupResponse, error) {
	return ask[*netpb.DeleteSecurityGroupResponse](ctx, s, req)
}

// AddSecurityGroupRule adds an allow rule to a security group.
func (s *Server) AddSecurityGroupRule(ctx context.Context, req *netpb.AddSecurityGroupRuleRequest) (*netpb.SecurityGroupRule, error) {
	return ask[*netpb.SecurityGroupRule](ctx, s, req)
}

// RemoveSecurityGroupRule removes a rule by id.
func (s *Server) RemoveSecurityGroupRule(ctx context.Context, req *netpb.RemoveSecurityGroupRuleRequest) (*netpb.RemoveSecurityGroupRuleResponse, error) {
	return ask[*netpb.RemoveSecurityGroupRuleResponse](ctx, s, req)
}

// AttachSecurityGroup attaches a security group to a vNIC.
func (s *Server) AttachSecurityGroup(ctx context.Context, req *netpb.AttachSecurityGroupRequest) (*netpb.AttachSecurityGroupResponse, error) {
	return ask[*netpb.AttachSecurityGroupResponse](ctx, s, req)
}

// DetachSecurityGroup detaches a security group from a vNIC.
func (s *Server) DetachSecurityGroup(ctx context.Context, req *netpb.DetachSecurityGroupRequest) (*netpb.DetachSecurityGroupResponse, error) {
	return ask[*netpb.DetachSecurityGroupResponse](ctx, s, req)
}
