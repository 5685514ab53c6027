package ec2

import (
	"strconv"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/store"
)

// permissions groups a direction's rules into IpPermissions by protocol and
// port range, in the order the ranges first appeared, as AWS shows them.
func permissions(rules []store.SecurityGroupRule, egress bool, names map[string]string) []ec2api.IpPermission {
	out := []ec2api.IpPermission{}
	index := map[[3]string]int{}
	for _, r := range rules {
		if r.IsEgress != egress {
			continue
		}
		key := [3]string{r.IPProtocol, strconv.FormatInt(r.FromPort, 10), strconv.FormatInt(r.ToPort, 10)}
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, newPermission(r))
		}
		addPeer(&out[i], r, names)
	}
	return out
}

func newPermission(r store.SecurityGroupRule) ec2api.IpPermission {
	p := ec2api.IpPermission{
		IpProtocol:       str(r.IPProtocol),
		IpRanges:         []ec2api.IpRange{},
		Ipv6Ranges:       []ec2api.Ipv6Range{},
		PrefixListIds:    []ec2api.PrefixListId{},
		UserIdGroupPairs: []ec2api.UserIdGroupPair{},
	}
	if r.IPProtocol != "-1" {
		p.FromPort, p.ToPort = i32(int32(r.FromPort)), i32(int32(r.ToPort))
	}
	return p
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func addPeer(p *ec2api.IpPermission, r store.SecurityGroupRule, names map[string]string) {
	desc := optional(r.Description)
	switch {
	case r.CIDRIPv4 != "":
		p.IpRanges = append(p.IpRanges, ec2api.IpRange{CidrIp: str(r.CIDRIPv4), Description: desc})
	case r.CIDRIPv6 != "":
		p.Ipv6Ranges = append(p.Ipv6Ranges, ec2api.Ipv6Range{CidrIpv6: str(r.CIDRIPv6), Description: desc})
	case r.PrefixListID != "":
		p.PrefixListIds = append(p.PrefixListIds, ec2api.PrefixListId{PrefixListId: str(r.PrefixListID), Description: desc})
	case r.RefGroupID != "":
		p.UserIdGroupPairs = append(p.UserIdGroupPairs, ec2api.UserIdGroupPair{GroupId: str(r.RefGroupID), UserId: str(r.RefAccountID), Description: desc})
	}
}

func apiRule(r store.SecurityGroupRule, tags []store.Tag) ec2api.SecurityGroupRule {
	out := ec2api.SecurityGroupRule{
		SecurityGroupRuleId: str(r.ID),
		GroupId:             str(r.GroupID),
		GroupOwnerId:        str(r.AccountID),
		IsEgress:            boolp(r.IsEgress),
		IpProtocol:          str(r.IPProtocol),
		FromPort:            i32(int32(r.FromPort)),
		ToPort:              i32(int32(r.ToPort)),
		CidrIpv4:            optional(r.CIDRIPv4),
		CidrIpv6:            optional(r.CIDRIPv6),
		PrefixListId:        optional(r.PrefixListID),
		Description:         optional(r.Description),
		Tags:                apiTags(tags),
	}
	if r.RefGroupID != "" {
		out.ReferencedGroupInfo = &ec2api.ReferencedSecurityGroup{GroupId: str(r.RefGroupID), UserId: str(r.RefAccountID)}
	}
	if out.Tags == nil {
		out.Tags = []ec2api.Tag{}
	}
	return out
}

// ruleFilterValues are the ip-permission.* filters of DescribeSecurityGroups.
func ruleFilterValues(names map[string]string) map[string]func(store.SecurityGroupRule) []string {
	port := func(n int64) []string { return filter.One(strconv.FormatInt(n, 10)) }
	nonEmpty := func(s string) []string {
		if s == "" {
			return nil
		}
		return filter.One(s)
	}
	return map[string]func(store.SecurityGroupRule) []string{
		"cidr":           func(r store.SecurityGroupRule) []string { return nonEmpty(r.CIDRIPv4) },
		"ipv6-cidr":      func(r store.SecurityGroupRule) []string { return nonEmpty(r.CIDRIPv6) },
		"prefix-list-id": func(r store.SecurityGroupRule) []string { return nonEmpty(r.PrefixListID) },
		"from-port":      func(r store.SecurityGroupRule) []string { return port(r.FromPort) },
		"to-port":        func(r store.SecurityGroupRule) []string { return port(r.ToPort) },
		"protocol":       func(r store.SecurityGroupRule) []string { return filter.One(r.IPProtocol) },
		"group-id":       func(r store.SecurityGroupRule) []string { return nonEmpty(r.RefGroupID) },
		"group-name":     func(r store.SecurityGroupRule) []string { return nonEmpty(names[r.RefGroupID]) },
		"user-id":        func(r store.SecurityGroupRule) []string { return nonEmpty(r.RefAccountID) },
	}
}

// ruleFields are DescribeSecurityGroupRules' filters.
func ruleFields() filter.Fields[store.SecurityGroupRule] {
	return filter.Fields[store.SecurityGroupRule]{
		"group-id":               func(r store.SecurityGroupRule) []string { return filter.One(r.GroupID) },
		"security-group-rule-id": func(r store.SecurityGroupRule) []string { return filter.One(r.ID) },
		"is-egress":              func(r store.SecurityGroupRule) []string { return filter.Bool(r.IsEgress) },
	}
}
