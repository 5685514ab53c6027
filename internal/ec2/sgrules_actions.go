package ec2

import (
	"context"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/store"
)

// authorizeRequest is what Authorize{Ingress,Egress} have in common.
type authorizeRequest struct {
	egress  bool
	groupID *string
	name    *string
	perms   []ec2api.IpPermission
	tags    []ec2api.TagSpecification
}

func (s *Service) authorize(ctx context.Context, req authorizeRequest) ([]ec2api.SecurityGroupRule, error) {
	tags, err := specTags(req.tags, typeGroupRule)
	if err != nil {
		return nil, err
	}
	if len(req.perms) == 0 {
		return nil, apiErr("MissingParameter", "The request must contain the parameter ipPermissions")
	}
	var out []ec2api.SecurityGroupRule
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		g, err := findGroup(ctx, tx, account, req.groupID, req.name)
		if err != nil {
			return err
		}
		specs, err := specsOf(req.perms, pairResolver(ctx, tx, account, g))
		if err != nil {
			return err
		}
		rows, err := addRules(ctx, tx, g, req.egress, specs)
		if err != nil {
			return err
		}
		for _, r := range rows {
			tagRows, err := putTags(ctx, tx, account, r.ID, typeGroupRule, tags)
			if err != nil {
				return err
			}
			out = append(out, apiRule(r, tagRows))
		}
		return nil
	})
	if err == nil {
		s.notifyAll() // the group's members' nodes and those of groups referencing it
	}
	return out, err
}

// addRules inserts specs after the duplicate and quota checks.
func addRules(ctx context.Context, tx *store.Tx, g store.SecurityGroup, egress bool, specs []ruleSpec) ([]store.SecurityGroupRule, error) {
	existing, err := groupRules(ctx, tx, g.AccountID, g.ID, egress)
	if err != nil {
		return nil, err
	}
	var added []ruleSpec
	var rows []store.SecurityGroupRule
	for _, sp := range specs {
		for _, r := range existing {
			if specOf(r).samePermission(sp) {
				return nil, apiErr("InvalidPermission.Duplicate", "the specified rule \"%s\" already exists", sp)
			}
		}
		for _, a := range added {
			if a.samePermission(sp) {
				return nil, apiErr("InvalidPermission.Duplicate", "the specified rule \"%s\" is given twice in the request", sp)
			}
		}
		added = append(added, sp)
		if len(existing)+len(added) > MaxRulesPerDirection {
			return nil, apiErr("RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached.")
		}
		r, err := insertRuleRow(ctx, tx, g, egress, sp)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// AuthorizeSecurityGroupIngress adds inbound rules.
func (s *Service) AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2api.AuthorizeSecurityGroupIngressRequest) (*ec2api.AuthorizeSecurityGroupIngressResult, error) {
	perms := append(legacyPermission(in.IpProtocol, in.CidrIp, in.SourceSecurityGroupName, in.SourceSecurityGroupOwnerId, in.FromPort, in.ToPort), in.IpPermissions...)
	rules, err := s.authorize(ctx, authorizeRequest{groupID: in.GroupId, name: in.GroupName, perms: perms, tags: in.TagSpecifications})
	if err != nil {
		return nil, err
	}
	return &ec2api.AuthorizeSecurityGroupIngressResult{Return: boolp(true), SecurityGroupRules: rules}, nil
}

// AuthorizeSecurityGroupEgress adds outbound rules.
func (s *Service) AuthorizeSecurityGroupEgress(ctx context.Context, in *ec2api.AuthorizeSecurityGroupEgressRequest) (*ec2api.AuthorizeSecurityGroupEgressResult, error) {
	perms := append(legacyPermission(in.IpProtocol, in.CidrIp, in.SourceSecurityGroupName, in.SourceSecurityGroupOwnerId, in.FromPort, in.ToPort), in.IpPermissions...)
	rules, err := s.authorize(ctx, authorizeRequest{egress: true, groupID: in.GroupId, perms: perms, tags: in.TagSpecifications})
	if err != nil {
		return nil, err
	}
	return &ec2api.AuthorizeSecurityGroupEgressResult{Return: boolp(true), SecurityGroupRules: rules}, nil
}

// revokeRequest is what Revoke{Ingress,Egress} have in common.
type revokeRequest struct {
	egress  bool
	groupID *string
	name    *string
	perms   []ec2api.IpPermission
	ruleIDs []string
}

// revoke removes rules by id or by permission. Permissions that match no
// rule come back as unknown; when nothing at all matched it is an error.
func (s *Service) revoke(ctx context.Context, req revokeRequest) ([]ec2api.IpPermission, error) {
	if len(req.perms) == 0 && len(req.ruleIDs) == 0 {
		return nil, apiErr("MissingParameter", "The request must contain the parameter ipPermissions or securityGroupRuleIds")
	}
	var unknown []ec2api.IpPermission
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		g, err := findGroup(ctx, tx, account, req.groupID, req.name)
		if err != nil {
			return err
		}
		existing, err := groupRules(ctx, tx, account, g.ID, req.egress)
		if err != nil {
			return err
		}
		if err := revokeByID(ctx, tx, account, existing, req.ruleIDs); err != nil {
			return err
		}
		unknown, err = revokeByPermission(ctx, tx, account, g, existing, req.perms)
		return err
	})
	if err == nil {
		s.notifyAll()
	}
	return unknown, err
}

func revokeByID(ctx context.Context, tx *store.Tx, account string, existing []store.SecurityGroupRule, ruleIDs []string) error {
	for _, id := range ruleIDs {
		found := false
		for _, r := range existing {
			if r.ID == id {
				found = true
			}
		}
		if !found {
			return errRuleNotFound(id)
		}
		if err := tx.DeleteSecurityGroupRule(ctx, account, id); err != nil {
			return err
		}
	}
	return nil
}

func revokeByPermission(ctx context.Context, tx *store.Tx, account string, g store.SecurityGroup, existing []store.SecurityGroupRule, perms []ec2api.IpPermission) ([]ec2api.IpPermission, error) {
	var unknown []ec2api.IpPermission
	matched := 0
	for _, p := range perms {
		specs, err := specsOf([]ec2api.IpPermission{p}, pairResolver(ctx, tx, account, g))
		if err != nil {
			return nil, err
		}
		for _, sp := range specs {
			id := matchRule(existing, sp)
			if id == "" {
				unknown = append(unknown, p)
				break
			}
			if err := tx.DeleteSecurityGroupRule(ctx, account, id); err != nil {
				return nil, err
			}
			matched++
		}
	}
	if len(perms) > 0 && matched == 0 {
		return nil, apiErr("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
	}
	return unknown, nil
}

func matchRule(rules []store.SecurityGroupRule, sp ruleSpec) string {
	for _, r := range rules {
		if specOf(r).samePermission(sp) {
			return r.ID
		}
	}
	return ""
}

// RevokeSecurityGroupIngress removes inbound rules.
func (s *Service) RevokeSecurityGroupIngress(ctx context.Context, in *ec2api.RevokeSecurityGroupIngressRequest) (*ec2api.RevokeSecurityGroupIngressResult, error) {
	perms := append(legacyPermission(in.IpProtocol, in.CidrIp, in.SourceSecurityGroupName, in.SourceSecurityGroupOwnerId, in.FromPort, in.ToPort), in.IpPermissions...)
	unknown, err := s.revoke(ctx, revokeRequest{groupID: in.GroupId, name: in.GroupName, perms: perms, ruleIDs: in.SecurityGroupRuleIds})
	if err != nil {
		return nil, err
	}
	return &ec2api.RevokeSecurityGroupIngressResult{Return: boolp(true), UnknownIpPermissions: unknown}, nil
}

// RevokeSecurityGroupEgress removes outbound rules.
func (s *Service) RevokeSecurityGroupEgress(ctx context.Context, in *ec2api.RevokeSecurityGroupEgressRequest) (*ec2api.RevokeSecurityGroupEgressResult, error) {
	perms := append(legacyPermission(in.IpProtocol, in.CidrIp, in.SourceSecurityGroupName, in.SourceSecurityGroupOwnerId, in.FromPort, in.ToPort), in.IpPermissions...)
	unknown, err := s.revoke(ctx, revokeRequest{egress: true, groupID: in.GroupId, perms: perms, ruleIDs: in.SecurityGroupRuleIds})
	if err != nil {
		return nil, err
	}
	return &ec2api.RevokeSecurityGroupEgressResult{Return: boolp(true), UnknownIpPermissions: unknown}, nil
}

// DescribeSecurityGroupRules lists the caller's rules one by one.
func (s *Service) DescribeSecurityGroupRules(ctx context.Context, in *ec2api.DescribeSecurityGroupRulesRequest) (*ec2api.DescribeSecurityGroupRulesResult, error) {
	q := taggedQuery[store.SecurityGroupRule]{rtype: typeGroupRule, idsParam: "securityGroupRuleIds", fields: ruleFields(), notFound: errRuleNotFound,
		list: func(tx *store.Tx) func(context.Context, string) ([]store.SecurityGroupRule, error) {
			return tx.ListSecurityGroupRules
		},
		id: func(r store.SecurityGroupRule) string { return r.ID }}
	page, tags, next, err := q.run(ctx, s, in.SecurityGroupRuleIds, in.Filters, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeSecurityGroupRulesResult{SecurityGroupRules: []ec2api.SecurityGroupRule{}, NextToken: next}
	for _, r := range page {
		out.SecurityGroupRules = append(out.SecurityGroupRules, apiRule(r, tags[r.ID]))
	}
	return out, nil
}
