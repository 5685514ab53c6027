package ec2

import (
	"context"
	"strconv"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ec2/filter"
	"github.com/kumo-cloud/kumo/internal/store"
)

func aclInt32(n int) *int32 {
	v := int32(n)
	return &v
}

func apiNetworkACLEntry(e store.NetworkACLEntry) ec2api.NetworkAclEntry {
	out := ec2api.NetworkAclEntry{Egress: boolp(e.Egress), Protocol: str(e.Protocol), RuleAction: str(e.RuleAction), RuleNumber: aclInt32(e.RuleNumber)}
	if e.CIDRBlock != "" {
		out.CidrBlock = str(e.CIDRBlock)
	}
	if e.IPv6CIDRBlock != "" {
		out.Ipv6CidrBlock = str(e.IPv6CIDRBlock)
	}
	if e.PortRange != nil {
		out.PortRange = &ec2api.PortRange{From: aclInt32(e.PortRange.From), To: aclInt32(e.PortRange.To)}
	}
	if e.ICMP != nil {
		out.IcmpTypeCode = &ec2api.IcmpTypeCode{Type: aclInt32(e.ICMP.Type), Code: aclInt32(e.ICMP.Code)}
	}
	return out
}

func apiNetworkACL(a store.NetworkACL, tags []store.Tag) *ec2api.NetworkAcl {
	out := &ec2api.NetworkAcl{NetworkAclId: str(a.ID), VpcId: str(a.VPCID), OwnerId: str(a.AccountID), IsDefault: boolp(a.IsDefault),
		Associations: []ec2api.NetworkAclAssociation{}, Entries: []ec2api.NetworkAclEntry{}, Tags: apiTags(tags)}
	for _, as := range a.Associations {
		out.Associations = append(out.Associations, ec2api.NetworkAclAssociation{NetworkAclAssociationId: str(as.ID),
			NetworkAclId: str(a.ID), SubnetId: str(as.SubnetID)})
	}
	// AWS lists egress entries first, each direction by rule number.
	for _, egress := range []bool{true, false} {
		for _, e := range a.Entries {
			if e.Egress == egress {
				out.Entries = append(out.Entries, apiNetworkACLEntry(e))
			}
		}
	}
	return out
}

// networkACLFields are DescribeNetworkAcls' filters.
func networkACLFields() filter.Fields[store.NetworkACL] {
	entries := func(f func(store.NetworkACLEntry) string) func(store.NetworkACL) []string {
		return func(a store.NetworkACL) []string {
			var out []string
			for _, e := range a.Entries {
				if v := f(e); v != "" {
					out = append(out, v)
				}
			}
			return out
		}
	}
	assocs := func(f func(store.NetworkACLAssociation) string) func(store.NetworkACL) []string {
		return func(a store.NetworkACL) []string {
			var out []string
			for _, as := range a.Associations {
				out = append(out, f(as))
			}
			return out
		}
	}
	return filter.Fields[store.NetworkACL]{
		"network-acl-id":             func(a store.NetworkACL) []string { return filter.One(a.ID) },
		"vpc-id":                     func(a store.NetworkACL) []string { return filter.One(a.VPCID) },
		"owner-id":                   func(a store.NetworkACL) []string { return filter.One(a.AccountID) },
		"default":                    func(a store.NetworkACL) []string { return filter.Bool(a.IsDefault) },
		"association.association-id": assocs(func(as store.NetworkACLAssociation) string { return as.ID }),
		"association.network-acl-id": assocs(func(as store.NetworkACLAssociation) string { return as.NetworkACLID }),
		"association.subnet-id":      assocs(func(as store.NetworkACLAssociation) string { return as.SubnetID }),
		"entry.cidr":                 entries(func(e store.NetworkACLEntry) string { return e.CIDRBlock }),
		"entry.ipv6-cidr":            entries(func(e store.NetworkACLEntry) string { return e.IPv6CIDRBlock }),
		"entry.egress":               entries(func(e store.NetworkACLEntry) string { return strconv.FormatBool(e.Egress) }),
		"entry.protocol":             entries(func(e store.NetworkACLEntry) string { return e.Protocol }),
		"entry.rule-action":          entries(func(e store.NetworkACLEntry) string { return e.RuleAction }),
		"entry.rule-number":          entries(func(e store.NetworkACLEntry) string { return strconv.Itoa(e.RuleNumber) }),
		"entry.port-range.from":      entries(func(e store.NetworkACLEntry) string { f, _, _, _ := aclEntryNumbers(e); return f }),
		"entry.port-range.to":        entries(func(e store.NetworkACLEntry) string { _, t, _, _ := aclEntryNumbers(e); return t }),
		"entry.icmp.type":            entries(func(e store.NetworkACLEntry) string { _, _, t, _ := aclEntryNumbers(e); return t }),
		"entry.icmp.code":            entries(func(e store.NetworkACLEntry) string { _, _, _, c := aclEntryNumbers(e); return c }),
	}
}

// aclEntryNumbers are an entry's port range and ICMP type and code as filter
// values (” when it has none).
func aclEntryNumbers(e store.NetworkACLEntry) (from, to, typ, code string) {
	if e.PortRange != nil {
		from, to = strconv.Itoa(e.PortRange.From), strconv.Itoa(e.PortRange.To)
	}
	if e.ICMP != nil {
		typ, code = strconv.Itoa(e.ICMP.Type), strconv.Itoa(e.ICMP.Code)
	}
	return from, to, typ, code
}

// DescribeNetworkAcls lists the caller's ACLs. VPCs and subnets made
// without their default ACL or association get them first.
func (s *Service) DescribeNetworkAcls(ctx context.Context, in *ec2api.DescribeNetworkAclsRequest) (*ec2api.DescribeNetworkAclsResult, error) {
	if err := s.ensureNetworkACLs(ctx); err != nil {
		return nil, err
	}
	q := taggedQuery[store.NetworkACL]{rtype: typeNetworkACL, idsParam: "networkAclIds", fields: networkACLFields(), notFound: errNetworkACLNotFound,
		list: func(tx *store.Tx) func(context.Context, string) ([]store.NetworkACL, error) {
			return tx.ListNetworkACLs
		},
		id: func(a store.NetworkACL) string { return a.ID }}
	page, tags, next, err := q.run(ctx, s, in.NetworkAclIds, in.Filters, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeNetworkAclsResult{NetworkAcls: []ec2api.NetworkAcl{}, NextToken: next}
	for _, a := range page {
		out.NetworkAcls = append(out.NetworkAcls, *apiNetworkACL(a, tags[a.ID]))
	}
	return out, nil
}

// ensureNetworkACLs repairs missing default ACLs and associations of the
// caller's account, writing only when something is missing.
func (s *Service) ensureNetworkACLs(ctx context.Context) error {
	var missing bool
	err := s.view(ctx, func(ctx context.Context, tx *store.Tx, account string) (err error) {
		missing, err = tx.NetworkACLsMissing(ctx, account)
		return err
	})
	if err != nil || !missing {
		return err
	}
	return s.updateNetwork(ctx, func(ctx context.Context, tx *store.Tx, account string) error {
		return ensureNetworkACLs(ctx, tx, account)
	})
}
