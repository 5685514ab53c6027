package ec2

import (
	"context"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/store"
)

// ModifySecurityGroupRules rewrites rules of one group in place: each
// keeps its id and direction and takes the request's protocol, ports,
// peer and description (what Terraform's aws_vpc_security_group_*_rule
// sends on every update). Nodes recompute their filters afterwards.
func (s *Service) ModifySecurityGroupRules(ctx context.Context, in *ec2api.ModifySecurityGroupRulesRequest) (*ec2api.ModifySecurityGroupRulesResult, error) {
	if deref(in.GroupId) == "" {
		return nil, apiErr("MissingParameter", "The request must contain the parameter GroupId")
	}
	if len(in.SecurityGroupRules) == 0 {
		return nil, apiErr("MissingParameter", "The request must contain the parameter SecurityGroupRule")
	}
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		g, err := findGroup(ctx, tx, account, in.GroupId, nil)
		if err != nil {
			return err
		}
		all, err := tx.ListSecurityGroupRules(ctx, account)
		if err != nil {
			return err
		}
		changed := map[string]store.SecurityGroupRule{}
		for _, u := range in.SecurityGroupRules {
			r, err := modifiedRule(u, g, all, pairResolver(ctx, tx, account, g))
			if err != nil {
				return err
			}
			if _, twice := changed[r.ID]; twice {
				return invalid("The security group rule ID '%s' is given more than once.", r.ID)
			}
			changed[r.ID] = r
		}
		if err := checkModifiedDuplicates(all, changed); err != nil {
			return err
		}
		for _, r := range changed {
			if err := tx.UpdateSecurityGroupRule(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notifyAll() // the group's members' nodes and those of groups referencing it
	return &ec2api.ModifySecurityGroupRulesResult{Return: boolp(true)}, nil
}

// modifiedRule is the rule u names, of group g, rewritten as u asks.
func modifiedRule(u ec2api.SecurityGroupRuleUpdate, g store.SecurityGroup, all []store.SecurityGroupRule,
	resolve func(ec2api.UserIdGroupPair) (string, string, error)) (store.SecurityGroupRule, error) {
	id := deref(u.SecurityGroupRuleId)
	if id == "" {
		return store.SecurityGroupRule{}, apiErr("MissingParameter", "The request must contain the parameter SecurityGroupRule.SecurityGroupRuleId")
	}
	if err := checkID(id, "sgr", "InvalidSecurityGroupRuleId.Malformed"); err != nil {
		return store.SecurityGroupRule{}, err
	}
	var r store.SecurityGroupRule
	for _, c := range all {
		if c.ID == id && c.GroupID == g.ID {
			r = c
		}
	}
	if r.ID == "" {
		return r, errRuleNotFound(id)
	}
	if u.SecurityGroupRule == nil {
		return r, apiErr("MissingParameter", "The request must contain the parameter SecurityGroupRule.SecurityGroupRule")
	}
	perm, err := ruleRequestPermission(*u.SecurityGroupRule)
	if err != nil {
		return r, err
	}
	specs, err := specsOf([]ec2api.IpPermission{perm}, resolve)
	if err != nil {
		return r, err
	}
	sp := specs[0]
	r.IPProtocol, r.FromPort, r.ToPort, r.CIDRIPv4, r.CIDRIPv6 = sp.protocol, sp.from, sp.to, sp.cidr4, sp.cidr6
	r.PrefixListID, r.RefGroupID, r.RefAccountID, r.Description = sp.prefixList, sp.refGroup, sp.refAccount, sp.desc
	return r, nil
}

// ruleRequestPermission turns one SecurityGroupRuleRequest into the
// IpPermission Authorize would take: exactly one peer.
func ruleRequestPermission(q ec2api.SecurityGroupRuleRequest) (ec2api.IpPermission, error) {
	p := ec2api.IpPermission{IpProtocol: q.IpProtocol, FromPort: q.FromPort, ToPort: q.ToPort}
	if p.IpProtocol == nil {
		return p, apiErr("MissingParameter", "The request must contain the parameter SecurityGroupRule.IpProtocol")
	}
	peers := 0
	if q.CidrIpv4 != nil {
		p.IpRanges = []ec2api.IpRange{{CidrIp: q.CidrIpv4, Description: q.Description}}
		peers++
	}
	if q.CidrIpv6 != nil {
		p.Ipv6Ranges = []ec2api.Ipv6Range{{CidrIpv6: q.CidrIpv6, Description: q.Description}}
		peers++
	}
	if q.PrefixListId != nil {
		p.PrefixListIds = []ec2api.PrefixListId{{PrefixListId: q.PrefixListId, Description: q.Description}}
		peers++
	}
	if q.ReferencedGroupId != nil {
		p.UserIdGroupPairs = []ec2api.UserIdGroupPair{{GroupId: q.ReferencedGroupId, Description: q.Description}}
		peers++
	}
	if peers != 1 {
		return p, apiErr("InvalidParameterCombination", "A security group rule must name exactly one of CidrIpv4, CidrIpv6, PrefixListId and ReferencedGroupId.")
	}
	return p, nil
}

// checkModifiedDuplicates refuses an update that would make two rules of
// one group and direction the same permission.
func checkModifiedDuplicates(all []store.SecurityGroupRule, changed map[string]store.SecurityGroupRule) error {
	after := make([]store.SecurityGroupRule, 0, len(all))
	for _, r := range all {
		if c, ok := changed[r.ID]; ok {
			r = c
		}
		after = append(after, r)
	}
	for _, c := range changed {
		for _, r := range after {
			if r.ID != c.ID && r.GroupID == c.GroupID && r.IsEgress == c.IsEgress && specOf(r).samePermission(specOf(c)) {
				return apiErr("InvalidPermission.Duplicate", "the specified rule \"%s\" already exists", specOf(c))
			}
		}
	}
	return nil
}
