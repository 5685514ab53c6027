package ec2

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// MaxRulesPerDirection is AWS's default quota of rules per group and direction.
const MaxRulesPerDirection = 60

// ruleSpec is one normalised permission: a protocol, a port range and one peer.
type ruleSpec struct {
	protocol   string
	from, to   int64
	cidr4      string
	cidr6      string
	prefixList string
	refGroup   string
	refAccount string
	desc       string
}

// samePermission compares everything but the description, as AWS's duplicate check does.
func (r ruleSpec) samePermission(o ruleSpec) bool {
	r.desc, o.desc = "", ""
	r.refAccount, o.refAccount = "", ""
	return r == o
}

func specOf(r store.SecurityGroupRule) ruleSpec {
	return ruleSpec{protocol: r.IPProtocol, from: r.FromPort, to: r.ToPort, cidr4: r.CIDRIPv4, cidr6: r.CIDRIPv6,
		prefixList: r.PrefixListID, refGroup: r.RefGroupID, refAccount: r.RefAccountID, desc: r.Description}
}

func (r ruleSpec) peer() string {
	switch {
	case r.cidr4 != "":
		return r.cidr4
	case r.cidr6 != "":
		return r.cidr6
	case r.prefixList != "":
		return r.prefixList
	}
	return r.refGroup
}

func (r ruleSpec) String() string {
	return fmt.Sprintf("peer: %s, %s, from port: %d, to port: %d, ALLOW", r.peer(), strings.ToUpper(protocolLabel(r.protocol)), r.from, r.to)
}

func protocolLabel(p string) string {
	if p == "-1" {
		return "ALL"
	}
	return p
}

var protocolNames = map[string]string{"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}

// normaliseProtocol accepts names and numbers as AWS does.
func normaliseProtocol(p string) (string, error) {
	p = strings.ToLower(strings.TrimSpace(p))
	if n, ok := protocolNames[p]; ok {
		return n, nil
	}
	switch p {
	case "tcp", "udp", "icmp", "icmpv6", "-1":
		return p, nil
	}
	if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 255 {
		return p, nil
	}
	return "", invalid("Invalid value '%s' for IP protocol. Unknown protocol.", p)
}

// portRange validates ports for the protocol and fills AWS's defaults.
func portRange(protocol string, from, to *int32) (int64, int64, error) {
	switch protocol {
	case "tcp", "udp":
		if from == nil || to == nil {
			return 0, 0, invalid("Invalid value for portRange. Must specify both from and to ports with TCP/UDP.")
		}
		if *from < 0 || *to > 65535 || *from > *to {
			return 0, 0, invalid("Invalid value for portRange. From port %d to port %d is not a valid range (0-65535, from <= to).", *from, *to)
		}
		return int64(*from), int64(*to), nil
	case "icmp", "icmpv6":
		f, t := int64(-1), int64(-1)
		if from != nil {
			f = int64(*from)
		}
		if to != nil {
			t = int64(*to)
		}
		if f < -1 || f > 255 || t < -1 || t > 255 {
			return 0, 0, invalid("Invalid value for portRange. ICMP type and code must be between -1 and 255.")
		}
		return f, t, nil
	}
	return -1, -1, nil
}

// specsOf flattens the request's permissions (or its legacy top-level
// fields) into one ruleSpec per peer, resolving group names.
func specsOf(perms []ec2api.IpPermission, resolve func(pair ec2api.UserIdGroupPair) (string, string, error)) ([]ruleSpec, error) {
	var out []ruleSpec
	for _, p := range perms {
		if p.IpProtocol == nil {
			return nil, apiErr("MissingParameter", "The request must contain the parameter ipPermissions.ipProtocol")
		}
		proto, err := normaliseProtocol(*p.IpProtocol)
		if err != nil {
			return nil, err
		}
		from, to, err := portRange(proto, p.FromPort, p.ToPort)
		if err != nil {
			return nil, err
		}
		base := ruleSpec{protocol: proto, from: from, to: to}
		peers, err := peersOf(p, base, resolve)
		if err != nil {
			return nil, err
		}
		out = append(out, peers...)
	}
	return out, nil
}

func peersOf(p ec2api.IpPermission, base ruleSpec, resolve func(ec2api.UserIdGroupPair) (string, string, error)) ([]ruleSpec, error) {
	var out []ruleSpec
	for _, r := range p.IpRanges {
		c, err := parseRuleCIDR(deref(r.CidrIp), false)
		if err != nil {
			return nil, err
		}
		s := base
		s.cidr4, s.desc = c, deref(r.Description)
		out = append(out, s)
	}
	for _, r := range p.Ipv6Ranges {
		c, err := parseRuleCIDR(deref(r.CidrIpv6), true)
		if err != nil {
			return nil, err
		}
		s := base
		s.cidr6, s.desc = c, deref(r.Description)
		out = append(out, s)
	}
	for _, pl := range p.PrefixListIds {
		return nil, apiErr("InvalidPrefixListId.NotFound", "The prefix list '%s' does not exist.", deref(pl.PrefixListId))
	}
	for _, pair := range p.UserIdGroupPairs {
		id, owner, err := resolve(pair)
		if err != nil {
			return nil, err
		}
		s := base
		s.refGroup, s.refAccount, s.desc = id, owner, deref(pair.Description)
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, invalid("The request must name a source or destination: an IPv4 or IPv6 CIDR, a prefix list or a security group.")
	}
	for _, s := range out {
		if len(s.desc) > 255 {
			return nil, invalid("Invalid rule description. Length exceeds maximum of 255.")
		}
	}
	return out, nil
}

func parseRuleCIDR(s string, v6 bool) (string, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Is6() != v6 {
		return "", invalid("CIDR block %s is malformed", s)
	}
	return p.Masked().String(), nil
}

// legacyPermission turns the top-level CidrIp/IpProtocol/FromPort/ToPort/
// SourceSecurityGroupName fields into one IpPermission, when they are used.
func legacyPermission(proto, cidr, srcGroup, srcOwner *string, from, to *int32) []ec2api.IpPermission {
	if proto == nil && cidr == nil && srcGroup == nil {
		return nil
	}
	p := ec2api.IpPermission{IpProtocol: proto, FromPort: from, ToPort: to}
	if p.IpProtocol == nil && srcGroup != nil {
		p.IpProtocol = str("-1")
	}
	if cidr != nil {
		p.IpRanges = []ec2api.IpRange{{CidrIp: cidr}}
	}
	if srcGroup != nil {
		p.UserIdGroupPairs = []ec2api.UserIdGroupPair{{GroupName: srcGroup, UserId: srcOwner}}
	}
	return []ec2api.IpPermission{p}
}

// pairResolver resolves a group pair to (group id, owner) within the account.
func pairResolver(ctx context.Context, tx *store.Tx, account string, target store.SecurityGroup) func(ec2api.UserIdGroupPair) (string, string, error) {
	return func(pair ec2api.UserIdGroupPair) (string, string, error) {
		if owner := deref(pair.UserId); owner != "" && owner != account {
			// Cross-account peers need account-to-account visibility, which comes with sharing.
			return "", "", errGroupNotFound(deref(pair.GroupId) + deref(pair.GroupName))
		}
		if pair.GroupId == nil && pair.GroupName == nil {
			return "", "", apiErr("MissingParameter", "The request must contain the parameter groupId or groupName in userIdGroupPairs")
		}
		var g store.SecurityGroup
		var err error
		if pair.GroupId != nil {
			g, err = findGroup(ctx, tx, account, pair.GroupId, nil)
		} else {
			g, err = findGroupByName(ctx, tx, account, target.VPCID, *pair.GroupName)
		}
		if err != nil {
			return "", "", err
		}
		if g.VPCID != target.VPCID {
			return "", "", apiErr("InvalidGroup.NotFound", "You have specified two resources that belong to different networks: %s and %s.", target.ID, g.ID)
		}
		return g.ID, account, nil
	}
}

func findGroupByName(ctx context.Context, tx *store.Tx, account, vpcID, name string) (store.SecurityGroup, error) {
	groups, err := tx.ListSecurityGroups(ctx, account)
	if err != nil {
		return store.SecurityGroup{}, err
	}
	for _, g := range groups {
		if g.VPCID == vpcID && g.Name == name {
			return g, nil
		}
	}
	return store.SecurityGroup{}, errGroupNameNotFound(name, vpcID)
}

func insertRule(ctx context.Context, tx *store.Tx, g store.SecurityGroup, egress bool, s ruleSpec) error {
	_, err := insertRuleRow(ctx, tx, g, egress, s)
	return err
}

func insertRuleRow(ctx context.Context, tx *store.Tx, g store.SecurityGroup, egress bool, s ruleSpec) (store.SecurityGroupRule, error) {
	r := store.SecurityGroupRule{ID: ids.Resource("sgr"), AccountID: g.AccountID, GroupID: g.ID, IsEgress: egress,
		IPProtocol: s.protocol, FromPort: s.from, ToPort: s.to, CIDRIPv4: s.cidr4, CIDRIPv6: s.cidr6,
		PrefixListID: s.prefixList, RefGroupID: s.refGroup, RefAccountID: s.refAccount, Description: s.desc, CreatedAt: time.Now().UTC()}
	return r, tx.InsertSecurityGroupRule(ctx, r)
}

// groupRules returns the rules of one group in one direction.
func groupRules(ctx context.Context, tx *store.Tx, account, groupID string, egress bool) ([]store.SecurityGroupRule, error) {
	all, err := tx.ListSecurityGroupRules(ctx, account)
	if err != nil {
		return nil, err
	}
	var out []store.SecurityGroupRule
	for _, r := range all {
		if r.GroupID == groupID && r.IsEgress == egress {
			out = append(out, r)
		}
	}
	return out, nil
}
