package ec2_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// perm builds one IpPermission as the provider sends it; ports nil for -1.
func perm(proto string, from, to *int32, cidrs []string, groups []string, desc string) types.IpPermission {
	p := types.IpPermission{IpProtocol: aws.String(proto), FromPort: from, ToPort: to}
	for _, c := range cidrs {
		p.IpRanges = append(p.IpRanges, types.IpRange{CidrIp: aws.String(c), Description: aws.String(desc)})
	}
	for _, g := range groups {
		p.UserIdGroupPairs = append(p.UserIdGroupPairs, types.UserIdGroupPair{GroupId: aws.String(g), Description: aws.String(desc)})
	}
	return p
}

func port(n int32) *int32 { return &n }

func showPort(p *int32) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// canon renders permissions as the provider compares them: one line per
// (protocol, ports, source, description), plus the permission's own shape
// (how many sources it groups), so a rule split or merged differently shows.
func canon(perms []types.IpPermission, account string, want bool) []string {
	var out []string
	for _, p := range perms {
		head := fmt.Sprintf("%s %s-%s n=%d", aws.ToString(p.IpProtocol), showPort(p.FromPort), showPort(p.ToPort),
			len(p.IpRanges)+len(p.UserIdGroupPairs)+len(p.Ipv6Ranges)+len(p.PrefixListIds))
		for _, r := range p.IpRanges {
			out = append(out, fmt.Sprintf("%s cidr=%s desc=%q", head, aws.ToString(r.CidrIp), aws.ToString(r.Description)))
		}
		for _, g := range p.UserIdGroupPairs {
			user := aws.ToString(g.UserId)
			if g.UserId == nil && want {
				user = account // the provider sends none; AWS answers the owner's account
			}
			out = append(out, fmt.Sprintf("%s group=%s user=%s desc=%q", head, aws.ToString(g.GroupId), user, aws.ToString(g.Description)))
		}
		for _, r := range p.Ipv6Ranges {
			out = append(out, fmt.Sprintf("%s cidr6=%s desc=%q", head, aws.ToString(r.CidrIpv6), aws.ToString(r.Description)))
		}
		for _, r := range p.PrefixListIds {
			out = append(out, fmt.Sprintf("%s pl=%s desc=%q", head, aws.ToString(r.PrefixListId), aws.ToString(r.Description)))
		}
	}
	slices.Sort(out)
	return out
}

func wantPerms(t *testing.T, what string, got, want []types.IpPermission, account string) {
	t.Helper()
	g, w := canon(got, account, false), canon(want, account, true)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s (a difference is a perpetual diff):\ngot:  %s\nwant: %s", what, strings.Join(g, "\n      "), strings.Join(w, "\n      "))
	}
}

func tfReadSG(t *testing.T, c *ec2.Client, id string) types.SecurityGroup {
	t.Helper()
	o, err := c.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	step(t, "DescribeSecurityGroups GroupId.1", err)
	return onlyOne(t, "DescribeSecurityGroups GroupId.1", id, o.SecurityGroups, func(s types.SecurityGroup) *string { return s.GroupId })
}

// tfCreateSG is aws_security_group's create up to the rules: the group,
// then the revoke of AWS's default egress (IPv4 fatal, IPv6 tolerated).
func tfCreateSG(t *testing.T, c *ec2.Client, vpc, name, desc string) string {
	t.Helper()
	ctx := context.Background()
	out, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: &name, Description: &desc, VpcId: &vpc,
		TagSpecifications: tagSpec(types.ResourceTypeSecurityGroup, "Name", name)})
	step(t, "CreateSecurityGroup", err)
	id := aws.ToString(out.GroupId)
	tfReadSG(t, c, id)
	_, err = c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: &id,
		IpPermissions: []types.IpPermission{perm("-1", port(0), port(0), []string{"0.0.0.0/0"}, nil, "")}})
	step(t, "RevokeSecurityGroupEgress -1 0.0.0.0/0", err)
	_, err = c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: &id,
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), FromPort: port(0), ToPort: port(0),
			Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}}})
	if err != nil && errCode(err) != "InvalidPermission.NotFound" &&
		!(errCode(err) == "InvalidParameterValue" && strings.Contains(err.Error(), "remote-ipv6-range")) {
		t.Fatalf("RevokeSecurityGroupEgress -1 ::/0: %v (only InvalidPermission.NotFound is tolerated)", err)
	}
	if g := tfReadSG(t, c, id); len(g.IpPermissionsEgress) != 0 {
		t.Fatalf("egress after revoking the default: %+v", g.IpPermissionsEgress)
	}
	return id
}

// TestTerraformSecurityGroupCalls replays aws_security_group with inline
// rules: create, revoke the default egress, authorize every ingress and
// every egress rule in one call each (CIDR and group sources with
// descriptions, -1 and icmp -1/-1), the Read twice, an update (one rule
// added, one removed, tags changed) and the delete.
func TestTerraformSecurityGroupCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		a := srv.NewAccount(t, "a")
		vpc := tfCreateVPC(t, a.EC2, "10.0.0.0/16")
		peer := tfCreateSG(t, a.EC2, vpc, "peer", "peer group")
		id := tfCreateSG(t, a.EC2, vpc, "web", "Managed by Terraform: web servers")
		tfReadSG(t, a.EC2, id)

		ssh := perm("tcp", port(22), port(22), []string{"10.0.0.0/8", "192.168.0.0/16"}, nil, "ssh")
		http := perm("tcp", port(80), port(80), []string{"0.0.0.0/0"}, nil, "http")
		ping := perm("icmp", port(-1), port(-1), []string{"0.0.0.0/0"}, nil, "ping")
		echo := perm("icmp", port(8), port(0), []string{"10.0.0.0/8"}, nil, "echo request")
		fromPeer := perm("-1", port(0), port(0), nil, []string{peer}, "from peer")
		ingress := []types.IpPermission{ssh, http, ping, echo, fromPeer}
		allOut := perm("-1", port(0), port(0), []string{"0.0.0.0/0"}, nil, "all out")
		toPeer := perm("tcp", port(5432), port(5432), nil, []string{peer}, "db")
		egress := []types.IpPermission{allOut, toPeer}
		_, err := a.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &id, IpPermissions: ingress})
		step(t, "AuthorizeSecurityGroupIngress", err)
		_, err = a.EC2.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: &id, IpPermissions: egress})
		step(t, "AuthorizeSecurityGroupEgress", err)

		// What AWS answers for what was sent: -1 without ports.
		answered := func(p types.IpPermission) types.IpPermission {
			if aws.ToString(p.IpProtocol) == "-1" {
				p.FromPort, p.ToPort = nil, nil
			}
			return p
		}
		g := tfReadSG(t, a.EC2, id)
		if aws.ToString(g.GroupName) != "web" || aws.ToString(g.Description) != "Managed by Terraform: web servers" ||
			aws.ToString(g.OwnerId) != a.ID || aws.ToString(g.VpcId) != vpc {
			t.Errorf("DescribeSecurityGroups: %+v", g)
		}
		wantTags(t, "security group", g.Tags, map[string]string{"Name": "web"})
		wantPerms(t, "ipPermissions", g.IpPermissions, []types.IpPermission{ssh, http, ping, echo, answered(fromPeer)}, a.ID)
		wantPerms(t, "ipPermissionsEgress", g.IpPermissionsEgress, []types.IpPermission{answered(allOut), toPeer}, a.ID)
		sameRead(t, "aws_security_group Read", g, tfReadSG(t, a.EC2, id))

		// Update: DescribeSecurityGroups, revoke the removed rule, authorize the added one, tags.
		tfReadSG(t, a.EC2, id)
		_, err = a.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: &id, IpPermissions: []types.IpPermission{ping}})
		step(t, "RevokeSecurityGroupIngress icmp", err)
		https := perm("tcp", port(443), port(443), []string{"0.0.0.0/0"}, nil, "https")
		_, err = a.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &id, IpPermissions: []types.IpPermission{https}})
		step(t, "AuthorizeSecurityGroupIngress 443", err)
		_, err = a.EC2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}})
		step(t, "DeleteTags", err)
		_, err = a.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("Tier"), Value: aws.String("front")}}})
		step(t, "CreateTags", err)
		g = tfReadSG(t, a.EC2, id)
		wantPerms(t, "ipPermissions after update", g.IpPermissions, []types.IpPermission{ssh, http, https, echo, answered(fromPeer)}, a.ID)
		wantTags(t, "security group after update", g.Tags, map[string]string{"Tier": "front"})
		sameRead(t, "aws_security_group Read after update", g, tfReadSG(t, a.EC2, id))

		// Delete: DescribeNetworkInterfaces [group-id], DeleteSecurityGroup, until InvalidGroup.NotFound.
		// The peer group is still referenced by web's rules, so it goes second.
		for _, gid := range []string{id, peer} {
			enis, err := a.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{flt("group-id", gid)}})
			step(t, "DescribeNetworkInterfaces group-id", err)
			if len(enis.NetworkInterfaces) != 0 {
				t.Errorf("DescribeNetworkInterfaces group-id=%s: %+v", gid, enis.NetworkInterfaces)
			}
			_, err = a.EC2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(gid)})
			step(t, "DeleteSecurityGroup "+gid, err)
			_, err = a.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{gid}})
			wantClientError(t, err, "InvalidGroup.NotFound")
		}
	})
}

// tfRule is one aws_vpc_security_group_*_rule as configured.
type tfRule struct {
	egress         bool
	proto          string
	from, to       *int32
	cidr, refGroup string
	desc           string
}

func (r tfRule) permission() types.IpPermission {
	p := types.IpPermission{IpProtocol: &r.proto, FromPort: r.from, ToPort: r.to}
	if r.cidr != "" {
		p.IpRanges = []types.IpRange{{CidrIp: &r.cidr, Description: &r.desc}}
	} else {
		p.UserIdGroupPairs = []types.UserIdGroupPair{{GroupId: &r.refGroup, Description: &r.desc}}
	}
	return p
}

// tfCreateRule authorizes the one permission and takes the rule ID from
// securityGroupRuleSet[0] (indexed without a check: §0.7), then tags it.
func tfCreateRule(t *testing.T, c *ec2.Client, group string, r tfRule) string {
	t.Helper()
	ctx := context.Background()
	var rules []types.SecurityGroupRule
	if r.egress {
		out, err := c.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: &group, IpPermissions: []types.IpPermission{r.permission()}})
		step(t, "AuthorizeSecurityGroupEgress", err)
		rules = out.SecurityGroupRules
	} else {
		out, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &group, IpPermissions: []types.IpPermission{r.permission()}})
		step(t, "AuthorizeSecurityGroupIngress", err)
		rules = out.SecurityGroupRules
	}
	if len(rules) != 1 || !strings.HasPrefix(aws.ToString(rules[0].SecurityGroupRuleId), "sgr-") {
		t.Fatalf("securityGroupRuleSet of a one-rule Authorize: %+v", rules)
	}
	id := aws.ToString(rules[0].SecurityGroupRuleId)
	_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String(r.desc)}}})
	step(t, "CreateTags sgr-", err)
	return id
}

func tfReadRule(t *testing.T, c *ec2.Client, id string) types.SecurityGroupRule {
	t.Helper()
	o, err := c.DescribeSecurityGroupRules(context.Background(), &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{id}})
	step(t, "DescribeSecurityGroupRules SecurityGroupRuleId.1", err)
	return onlyOne(t, "DescribeSecurityGroupRules SecurityGroupRuleId.1", id, o.SecurityGroupRules, func(s types.SecurityGroupRule) *string { return s.SecurityGroupRuleId })
}

// checkRule compares the Read with the configuration: ports of -1 map to
// null when not configured, anything else must come back as sent.
func checkRule(t *testing.T, got types.SecurityGroupRule, group, account string, r tfRule) {
	t.Helper()
	portOK := func(p *int32, want *int32) bool {
		if want == nil {
			return p == nil || *p == -1
		}
		return p != nil && *p == *want
	}
	ok := aws.ToString(got.GroupId) == group && aws.ToString(got.GroupOwnerId) == account && aws.ToBool(got.IsEgress) == r.egress &&
		aws.ToString(got.IpProtocol) == r.proto && portOK(got.FromPort, r.from) && portOK(got.ToPort, r.to) &&
		aws.ToString(got.CidrIpv4) == r.cidr && aws.ToString(got.CidrIpv6) == "" && aws.ToString(got.PrefixListId) == "" &&
		aws.ToString(got.Description) == r.desc
	if r.refGroup != "" {
		ok = ok && got.ReferencedGroupInfo != nil && aws.ToString(got.ReferencedGroupInfo.GroupId) == r.refGroup &&
			aws.ToString(got.ReferencedGroupInfo.UserId) == account
	} else {
		ok = ok && got.ReferencedGroupInfo == nil
	}
	if !ok {
		t.Errorf("DescribeSecurityGroupRules for %+v answered %+v (ref %+v)", r, got, got.ReferencedGroupInfo)
	}
	wantTags(t, "rule", got.Tags, map[string]string{"Name": r.desc})
}

// TestTerraformSecurityGroupRuleCalls replays aws_vpc_security_group_ingress_rule
// and _egress_rule: one Authorize per rule, CreateTags on the sgr- ID, the
// Read (DescribeSecurityGroupRules, fatal) twice, the description update by
// ModifySecurityGroupRules, a tag update, and the revoke by rule ID.
func TestTerraformSecurityGroupRuleCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		a := srv.NewAccount(t, "a")
		vpc := tfCreateVPC(t, a.EC2, "10.0.0.0/16")
		peer := tfCreateSG(t, a.EC2, vpc, "peer", "peer group")
		group := tfCreateSG(t, a.EC2, vpc, "web", "web")
		rules := []tfRule{
			{proto: "tcp", from: port(80), to: port(80), cidr: "10.0.0.0/8", desc: "http"},
			{proto: "-1", refGroup: peer, desc: "everything from peer"}, // moto loses this description
			{proto: "icmp", from: port(-1), to: port(-1), cidr: "0.0.0.0/0", desc: "ping"},
			{proto: "icmp", from: port(8), to: port(0), cidr: "10.0.0.0/8", desc: "echo request"}, // type 8, code 0
			{proto: "icmp", from: port(3), to: port(-1), cidr: "10.0.0.0/8", desc: "unreachable"}, // type 3, any code
			{egress: true, proto: "tcp", from: port(443), to: port(443), cidr: "0.0.0.0/0", desc: "https out"},
			{egress: true, proto: "udp", from: port(53), to: port(53), refGroup: peer, desc: "dns to peer"},
		}
		ids := make([]string, len(rules))
		for i, r := range rules {
			ids[i] = tfCreateRule(t, a.EC2, group, r)
		}
		for i, r := range rules {
			got := tfReadRule(t, a.EC2, ids[i])
			checkRule(t, got, group, a.ID, r)
			sameRead(t, "rule Read "+ids[i], got, tfReadRule(t, a.EC2, ids[i]))
		}

		// Tag update on the rule.
		_, err := a.EC2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{ids[0]}, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("http")}}})
		step(t, "DeleteTags sgr-", err)
		_, err = a.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{ids[0]}, Tags: []types.Tag{{Key: aws.String("Env"), Value: aws.String("x")}}})
		step(t, "CreateTags sgr-", err)
		wantTags(t, "rule after tag update", tfReadRule(t, a.EC2, ids[0]).Tags, map[string]string{"Env": "x"})

		t.Run("ModifySecurityGroupRules description", func(t *testing.T) {
			for _, i := range []int{1, 5} { // a group-referencing ingress rule, a CIDR egress rule
				r := rules[i]
				sr := &types.SecurityGroupRuleRequest{Description: aws.String("changed " + r.desc), IpProtocol: &r.proto, FromPort: r.from, ToPort: r.to}
				if r.cidr != "" {
					sr.CidrIpv4 = aws.String(r.cidr)
				} else {
					sr.ReferencedGroupId = aws.String(r.refGroup)
				}
				_, err := a.EC2.ModifySecurityGroupRules(ctx, &ec2.ModifySecurityGroupRulesInput{GroupId: &group,
					SecurityGroupRules: []types.SecurityGroupRuleUpdate{{SecurityGroupRuleId: aws.String(ids[i]), SecurityGroupRule: sr}}})
				step(t, "ModifySecurityGroupRules", err)
				got := tfReadRule(t, a.EC2, ids[i])
				if aws.ToString(got.Description) != "changed "+r.desc || aws.ToString(got.SecurityGroupRuleId) != ids[i] {
					t.Errorf("after ModifySecurityGroupRules: %+v", got)
				}
			}
		})

		// Delete: revoke by rule ID; a second revoke and the Read answer NotFound.
		for i, r := range rules {
			revoke := func() error {
				if r.egress {
					_, err := a.EC2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: &group, SecurityGroupRuleIds: []string{ids[i]}})
					return err
				}
				_, err := a.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: &group, SecurityGroupRuleIds: []string{ids[i]}})
				return err
			}
			step(t, "Revoke SecurityGroupRuleId.1", revoke())
			wantClientError(t, revoke(), "InvalidSecurityGroupRuleId.NotFound")
			o, err := a.EC2.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{ids[i]}})
			if err == nil && len(o.SecurityGroupRules) != 0 {
				t.Errorf("DescribeSecurityGroupRules of a revoked rule: %+v", o.SecurityGroupRules)
			} else if err != nil {
				wantClientError(t, err, "InvalidSecurityGroupRuleId.NotFound")
			}
		}
		if g := tfReadSG(t, a.EC2, group); len(g.IpPermissions)+len(g.IpPermissionsEgress) != 0 {
			t.Errorf("rules left after revoking all: %+v %+v", g.IpPermissions, g.IpPermissionsEgress)
		}
	})
}
