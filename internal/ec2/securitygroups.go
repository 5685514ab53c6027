package ec2

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/ec2/paginate"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// createDefaultGroup makes a VPC's "default" group: all traffic from its
// own members in, everything out, as AWS's.
func createDefaultGroup(ctx context.Context, tx *store.Tx, vpc store.VPC) (store.SecurityGroup, error) {
	g := store.SecurityGroup{ID: ids.Resource("sg"), AccountID: vpc.AccountID, VPCID: vpc.ID, Name: "default",
		Description: "default VPC security group", CreatedAt: time.Now().UTC()}
	if err := tx.InsertSecurityGroup(ctx, g); err != nil {
		return g, err
	}
	in := ruleSpec{protocol: "-1", from: -1, to: -1, refGroup: g.ID, refAccount: vpc.AccountID}
	if err := insertRule(ctx, tx, g, false, in); err != nil {
		return g, err
	}
	return g, insertRule(ctx, tx, g, true, allTrafficOut())
}

func allTrafficOut() ruleSpec { return ruleSpec{protocol: "-1", from: -1, to: -1, cidr4: "0.0.0.0/0"} }

// defaultVPC returns the account's default VPC, if it still has one.
func defaultVPC(ctx context.Context, tx *store.Tx, account string) (store.VPC, bool, error) {
	vpcs, err := tx.ListVPCs(ctx, account)
	if err != nil {
		return store.VPC{}, false, err
	}
	for _, v := range vpcs {
		if v.IsDefault {
			return v, true, nil
		}
	}
	return store.VPC{}, false, nil
}

func validateGroupText(name, desc string) error {
	switch {
	case name == "":
		return apiErr("MissingParameter", "The request must contain the parameter GroupName")
	case len(name) > 255:
		return invalid("Value (%s) for parameter GroupName is invalid. Length exceeds maximum of 255.", name)
	case strings.IndexFunc(name+desc, unicode.IsControl) >= 0:
		return invalid("Group names and descriptions may not contain control characters.")
	case strings.HasPrefix(strings.ToLower(name), "sg-"):
		return invalid("Group names may not be in the format sg-*.")
	case desc == "":
		return apiErr("MissingParameter", "The request must contain the parameter GroupDescription")
	case len(desc) > 255:
		return invalid("Value for parameter GroupDescription is invalid. Length exceeds maximum of 255.")
	}
	return nil
}

// CreateSecurityGroup makes a group (in the default VPC when none is named)
// with AWS's default allow-all egress rule.
func (s *Service) CreateSecurityGroup(ctx context.Context, in *ec2api.CreateSecurityGroupRequest) (*ec2api.CreateSecurityGroupResult, error) {
	name, desc := deref(in.GroupName), deref(in.Description)
	if err := validateGroupText(name, desc); err != nil {
		return nil, err
	}
	if name == "default" {
		return nil, apiErr("InvalidGroup.Reserved", "The security group 'default' is reserved")
	}
	tags, err := specTags(in.TagSpecifications, typeGroup)
	if err != nil {
		return nil, err
	}
	g := store.SecurityGroup{ID: ids.Resource("sg"), Name: name, Description: desc, CreatedAt: time.Now().UTC()}
	var rows []store.Tag
	err = s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		g.AccountID = account
		vpc, err := groupVPC(ctx, tx, account, in.VpcId)
		if err != nil {
			return err
		}
		g.VPCID = vpc.ID
		if err := tx.InsertSecurityGroup(ctx, g); errors.Is(err, store.ErrConflict) {
			return apiErr("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpc.ID)
		} else if err != nil {
			return err
		}
		if err := insertRule(ctx, tx, g, true, allTrafficOut()); err != nil {
			return err
		}
		rows, err = putTags(ctx, tx, account, g.ID, typeGroup, tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateSecurityGroupResult{GroupId: str(g.ID), Tags: apiTags(rows)}, nil
}

// groupVPC resolves the VPC a new group goes into.
func groupVPC(ctx context.Context, tx *store.Tx, account string, vpcID *string) (store.VPC, error) {
	if vpcID != nil {
		v, err := tx.GetVPC(ctx, account, *vpcID)
		return v, vpcErr(err, *vpcID)
	}
	v, ok, err := defaultVPC(ctx, tx, account)
	if err == nil && !ok {
		err = apiErr("VPCIdNotSpecified", "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.")
	}
	return v, err
}

// findGroup resolves a group by id, or by name in the default VPC.
func findGroup(ctx context.Context, tx *store.Tx, account string, id, name *string) (store.SecurityGroup, error) {
	if id == nil && name == nil {
		return store.SecurityGroup{}, apiErr("MissingParameter", "The request must contain the parameter groupName or groupId")
	}
	groups, err := tx.ListSecurityGroups(ctx, account)
	if err != nil {
		return store.SecurityGroup{}, err
	}
	if id != nil {
		if err := checkID(*id, "sg", "InvalidGroupId.Malformed"); err != nil {
			return store.SecurityGroup{}, err
		}
		for _, g := range groups {
			if g.ID == *id {
				return g, nil
			}
		}
		return store.SecurityGroup{}, errGroupNotFound(*id)
	}
	vpc, ok, err := defaultVPC(ctx, tx, account)
	if err != nil {
		return store.SecurityGroup{}, err
	}
	if !ok {
		return store.SecurityGroup{}, apiErr("VPCIdNotSpecified", "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.")
	}
	for _, g := range groups {
		if g.Name == *name && g.VPCID == vpc.ID {
			return g, nil
		}
	}
	return store.SecurityGroup{}, errGroupNameNotFound(*name, vpc.ID)
}

// DeleteSecurityGroup removes a group no other group refers to.
func (s *Service) DeleteSecurityGroup(ctx context.Context, in *ec2api.DeleteSecurityGroupRequest) (*ec2api.DeleteSecurityGroupOutput, error) {
	err := s.update(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		g, err := findGroup(ctx, tx, account, in.GroupId, in.GroupName)
		if err != nil {
			return err
		}
		if g.Name == "default" {
			return apiErr("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", g.ID)
		}
		n, err := tx.CountRulesReferencing(ctx, g.ID)
		if err != nil {
			return err
		}
		if n > 0 {
			return errDependency("resource %s has a dependent object", g.ID)
		}
		if err := tx.SettleTerminatedInterfaces(ctx, account); err != nil {
			return err
		}
		if used, err := tx.GroupInUse(ctx, g.ID); err != nil || used {
			return cmp.Or(err, errDependency("resource %s has a dependent object", g.ID))
		}
		return tx.DeleteSecurityGroup(ctx, account, g.ID)
	})
	return &ec2api.DeleteSecurityGroupOutput{}, err
}

// groupView is a group with its rules and tags, for Describe and filters.
type groupView struct {
	store.SecurityGroup
	rules []store.SecurityGroupRule
	tags  []store.Tag
}

func groupFields(names map[string]string) filter.Fields[groupView] {
	fields := filter.Fields[groupView]{
		"description": func(g groupView) []string { return filter.One(g.Description) },
		"group-id":    func(g groupView) []string { return filter.One(g.ID) },
		"group-name":  func(g groupView) []string { return filter.One(g.Name) },
		"owner-id":    func(g groupView) []string { return filter.One(g.AccountID) },
		"vpc-id":      func(g groupView) []string { return filter.One(g.VPCID) },
	}
	for _, egress := range []bool{false, true} {
		prefix := "ip-permission."
		if egress {
			prefix = "egress.ip-permission."
		}
		for name, get := range ruleFilterValues(names) {
			fields[prefix+name] = groupRuleValues(egress, get)
		}
	}
	return fields
}

func groupRuleValues(egress bool, get func(store.SecurityGroupRule) []string) func(groupView) []string {
	return func(g groupView) []string {
		var out []string
		for _, r := range g.rules {
			if r.IsEgress == egress {
				out = append(out, get(r)...)
			}
		}
		return out
	}
}

// DescribeSecurityGroups lists the caller's groups with their rules.
func (s *Service) DescribeSecurityGroups(ctx context.Context, in *ec2api.DescribeSecurityGroupsRequest) (*ec2api.DescribeSecurityGroupsResult, error) {
	if err := noIDsWithMaxResults("groupIds", in.GroupIds, in.MaxResults); err != nil {
		return nil, err
	}
	if err := noIDsWithMaxResults("groupNames", in.GroupNames, in.MaxResults); err != nil {
		return nil, err
	}
	for _, id := range in.GroupIds {
		if err := checkID(id, "sg", "InvalidGroupId.Malformed"); err != nil {
			return nil, err
		}
	}
	var views []groupView
	var names map[string]string
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) (err error) {
		views, names, err = loadGroups(ctx, tx, account)
		if err != nil {
			return err
		}
		views, err = selectGroups(ctx, tx, account, views, in.GroupIds, in.GroupNames)
		return err
	})
	if err != nil {
		return nil, err
	}
	page, next, err := describe(views, in.Filters, groupFields(names), func(g groupView) map[string]string { return tagMap(g.tags) },
		func(g groupView) string { return g.ID }, in.MaxResults, in.NextToken, paginate.Limits{Min: 5, Max: 1000})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeSecurityGroupsResult{SecurityGroups: []ec2api.SecurityGroup{}, NextToken: next}
	for _, g := range page {
		out.SecurityGroups = append(out.SecurityGroups, apiGroup(g, names))
	}
	return out, nil
}

// loadGroups reads every group of the account with rules and tags, and a
// map from group id to name for rule peers.
func loadGroups(ctx context.Context, tx *store.Tx, account string) ([]groupView, map[string]string, error) {
	groups, err := tx.ListSecurityGroups(ctx, account)
	if err != nil {
		return nil, nil, err
	}
	rules, err := tx.ListSecurityGroupRules(ctx, account)
	if err != nil {
		return nil, nil, err
	}
	tags, err := tx.TagsByResource(ctx, account, typeGroup)
	if err != nil {
		return nil, nil, err
	}
	byGroup := map[string][]store.SecurityGroupRule{}
	for _, r := range rules {
		byGroup[r.GroupID] = append(byGroup[r.GroupID], r)
	}
	names := map[string]string{}
	views := make([]groupView, 0, len(groups))
	for _, g := range groups {
		names[g.ID] = g.Name
		views = append(views, groupView{SecurityGroup: g, rules: byGroup[g.ID], tags: tags[g.ID]})
	}
	return views, names, nil
}

func selectGroups(ctx context.Context, tx *store.Tx, account string, views []groupView, ids, names []string) ([]groupView, error) {
	views, err := selectByID(views, ids, func(g groupView) string { return g.ID }, errGroupNotFound)
	if err != nil || len(names) == 0 {
		return views, err
	}
	vpc, ok, err := defaultVPC(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	var out []groupView
	for _, name := range names {
		found := false
		for _, g := range views {
			if ok && g.VPCID == vpc.ID && g.Name == name {
				out = append(out, g)
				found = true
			}
		}
		if !found {
			return nil, errGroupNameNotFound(name, vpc.ID)
		}
	}
	return out, nil
}

func apiGroup(g groupView, names map[string]string) ec2api.SecurityGroup {
	return ec2api.SecurityGroup{
		GroupId:             str(g.ID),
		GroupName:           str(g.Name),
		Description:         str(g.Description),
		OwnerId:             str(g.AccountID),
		VpcId:               str(g.VPCID),
		IpPermissions:       permissions(g.rules, false, names),
		IpPermissionsEgress: permissions(g.rules, true, names),
		Tags:                apiTags(g.tags),
	}
}
