package e2e_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestSecurityGroups covers groups and their rules: create, authorize,
// describe (the shape Terraform reads), filters, revoke and delete.
func TestSecurityGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		_, acct := start(t, b)
		c := acct.EC2
		def := aws.ToString(defaultVPC(t, c).VpcId)
		vpc := createVPC(t, c, "10.30.0.0/16")

		t.Run("CreateSecurityGroup", func(t *testing.T) {
			out, err := c.CreateSecurityGroup(t.Context(), &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web servers"),
				TagSpecifications: tagSpec(types.ResourceTypeSecurityGroup, "team", "blue")})
			noErr(t, err)
			web := aws.ToString(out.GroupId)
			if !strings.HasPrefix(web, "sg-") || tagsOf(out.Tags)["team"] != "blue" {
				t.Errorf("CreateSecurityGroup = %s tags %v", web, tagsOf(out.Tags))
			}
			g := group(t, c, web)
			if aws.ToString(g.VpcId) != def || aws.ToString(g.GroupName) != "web" || aws.ToString(g.Description) != "web servers" ||
				aws.ToString(g.OwnerId) != acct.ID || len(g.IpPermissions) != 0 {
				t.Errorf("group without VpcId = %+v, want web in the default VPC %s, owner %s, no ingress", g, def, acct.ID)
			}
			wantAllowAllEgress(t, g)

			// The same name is fine in another VPC, not twice in one.
			inVPC := createGroup(t, c, "web", vpc)
			if got := aws.ToString(group(t, c, inVPC).VpcId); got != vpc {
				t.Errorf("group created in %s is in %s", vpc, got)
			}
			for _, tc := range []struct {
				name, vpc, code string
			}{
				{"web", "", "InvalidGroup.Duplicate"},
				{"web", vpc, "InvalidGroup.Duplicate"},
				{"default", "", "InvalidGroup.Reserved"},
				{"default", vpc, "InvalidGroup.Reserved"},
				{"sg-x", "", "InvalidParameterValue"},
				{strings.Repeat("n", 256), "", "InvalidParameterValue"},
				{"orphan", "vpc-0123456789abcdef0", "InvalidVpcID.NotFound"},
			} {
				in := &ec2.CreateSecurityGroupInput{GroupName: aws.String(tc.name), Description: aws.String("d")}
				if tc.vpc != "" {
					in.VpcId = aws.String(tc.vpc)
				}
				_, err := c.CreateSecurityGroup(t.Context(), in)
				wantCode(t, err, tc.code)
			}
		})

		t.Run("ingress rules and their shape", func(t *testing.T) {
			app := createGroup(t, c, "app", vpc)
			lb := createGroup(t, c, "lb", vpc)
			out, err := c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(app),
				IpPermissions: []types.IpPermission{tcpFrom(22, 22, "10.0.0.0/8")}})
			noErr(t, err)
			if !aws.ToBool(out.Return) || len(out.SecurityGroupRules) != 1 || !strings.HasPrefix(aws.ToString(out.SecurityGroupRules[0].SecurityGroupRuleId), "sgr-") {
				t.Fatalf("AuthorizeSecurityGroupIngress = %+v, want one sgr- rule", out.SecurityGroupRules)
			}
			r := out.SecurityGroupRules[0]
			if aws.ToString(r.GroupId) != app || aws.ToBool(r.IsEgress) || aws.ToString(r.IpProtocol) != "tcp" ||
				aws.ToInt32(r.FromPort) != 22 || aws.ToInt32(r.ToPort) != 22 || aws.ToString(r.CidrIpv4) != "10.0.0.0/8" {
				t.Errorf("authorized rule = %+v", r)
			}

			_, err = c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(app),
				IpPermissions: []types.IpPermission{tcpFrom(22, 22, "10.0.0.0/8")}})
			wantCode(t, err, "InvalidPermission.Duplicate")

			// A second range on the same ports, a group peer and a legacy top-level rule.
			_, err = c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(app),
				IpPermissions: []types.IpPermission{tcpFrom(22, 22, "192.168.0.0/16")}})
			noErr(t, err)
			_, err = c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(app),
				IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8080),
					UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(lb), Description: aws.String("from the lb")}}}}})
			noErr(t, err)
			_, err = c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(app),
				IpProtocol: aws.String("udp"), FromPort: aws.Int32(53), ToPort: aws.Int32(53), CidrIp: aws.String("10.30.0.0/16")})
			noErr(t, err)

			g := group(t, c, app)
			type perm struct {
				proto    string
				from, to int32
				cidrs    []string
				groups   []string
			}
			var got []perm
			for _, p := range g.IpPermissions {
				q := perm{proto: aws.ToString(p.IpProtocol), from: aws.ToInt32(p.FromPort), to: aws.ToInt32(p.ToPort)}
				for _, r := range p.IpRanges {
					q.cidrs = append(q.cidrs, aws.ToString(r.CidrIp))
				}
				for _, pair := range p.UserIdGroupPairs {
					q.groups = append(q.groups, aws.ToString(pair.GroupId)+"@"+aws.ToString(pair.UserId)+":"+aws.ToString(pair.Description))
				}
				slices.Sort(q.cidrs)
				got = append(got, q)
			}
			want := []perm{
				{"tcp", 22, 22, []string{"10.0.0.0/8", "192.168.0.0/16"}, nil},
				{"tcp", 8080, 8080, nil, []string{lb + "@" + acct.ID + ":from the lb"}},
				{"udp", 53, 53, []string{"10.30.0.0/16"}, nil},
			}
			slices.SortFunc(got, func(a, b perm) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("IpPermissions =\n %+v\nwant\n %+v", got, want)
			}
			wantAllowAllEgress(t, g)

			// The same rule by group name in the default VPC (legacy GroupName and SourceSecurityGroupName).
			dweb := createGroup(t, c, "legacy", "")
			_, err = c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupName: aws.String("legacy"),
				IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), CidrIp: aws.String("0.0.0.0/0")})
			noErr(t, err)
			_, err = c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupName: aws.String("legacy"),
				SourceSecurityGroupName: aws.String("default")})
			noErr(t, err)
			lg := group(t, c, dweb)
			if len(lg.IpPermissions) != 2 {
				t.Errorf("legacy rules = %+v, want tcp 443 from 0.0.0.0/0 and all from default", lg.IpPermissions)
			}
			_, err = c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupName: aws.String("no-such-group"),
				IpPermissions: []types.IpPermission{tcpFrom(1, 1, "10.0.0.0/8")}})
			wantCode(t, err, "InvalidGroup.NotFound")
		})

		t.Run("AuthorizeSecurityGroupIngress errors", func(t *testing.T) {
			g := createGroup(t, c, "errors", vpc)
			other := createGroup(t, c, "elsewhere", "")
			for _, tc := range []struct {
				name string
				perm types.IpPermission
				code string
			}{
				{"bad protocol", types.IpPermission{IpProtocol: aws.String("tcpx"), FromPort: aws.Int32(1), ToPort: aws.Int32(1),
					IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}, "InvalidParameterValue"},
				{"protocol 256", types.IpPermission{IpProtocol: aws.String("256"), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}, "InvalidParameterValue"},
				{"tcp without ports", types.IpPermission{IpProtocol: aws.String("tcp"), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}, "InvalidParameterValue"},
				{"port over 65535", tcpFrom(1, 70000, "10.0.0.0/8"), "InvalidParameterValue"},
				{"from after to", tcpFrom(90, 80, "10.0.0.0/8"), "InvalidParameterValue"},
				{"bad CIDR", tcpFrom(22, 22, "10.0.0.0/33"), "InvalidParameterValue"},
				{"not a CIDR", tcpFrom(22, 22, "banana"), "InvalidParameterValue"},
				{"no peer", types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(1), ToPort: aws.Int32(1)}, "InvalidParameterValue"},
				{"unknown peer group", types.IpPermission{IpProtocol: aws.String("-1"),
					UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String("sg-0123456789abcdef0")}}}, "InvalidGroup.NotFound"},
				{"peer in another VPC", types.IpPermission{IpProtocol: aws.String("-1"),
					UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(other)}}}, "InvalidGroup.NotFound"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(g),
						IpPermissions: []types.IpPermission{tc.perm}})
					wantCode(t, err, tc.code)
				})
			}
			if n := len(group(t, c, g).IpPermissions); n != 0 {
				t.Errorf("failed authorizations left %d permissions", n)
			}
			_, err := c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String("sg-0123456789abcdef0"),
				IpPermissions: []types.IpPermission{tcpFrom(22, 22, "10.0.0.0/8")}})
			wantCode(t, err, "InvalidGroup.NotFound")
			_, err = c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String("sg-zzz"),
				IpPermissions: []types.IpPermission{tcpFrom(22, 22, "10.0.0.0/8")}})
			wantCode(t, err, "InvalidGroupId.Malformed")
		})

		t.Run("DescribeSecurityGroups filters", func(t *testing.T) {
			ssh := createGroup(t, c, "ssh", vpc)
			_, err := c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(ssh),
				IpPermissions: []types.IpPermission{tcpFrom(2222, 2222, "172.16.0.0/12")}})
			noErr(t, err)
			_, err = c.CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: []string{ssh}, Tags: tagList("team", "ops")})
			noErr(t, err)
			for _, tc := range []struct {
				name    string
				filters []types.Filter
				want    []string
			}{
				{"group-name and vpc-id", []types.Filter{filter("group-name", "ssh"), filter("vpc-id", vpc)}, []string{ssh}},
				{"group-name in the wrong VPC", []types.Filter{filter("group-name", "ssh"), filter("vpc-id", def)}, []string{}},
				{"ip-permission.from-port", []types.Filter{filter("ip-permission.from-port", "2222")}, []string{ssh}},
				{"ip-permission.cidr", []types.Filter{filter("ip-permission.cidr", "172.16.0.0/12")}, []string{ssh}},
				{"tag", []types.Filter{filter("tag:team", "ops")}, []string{ssh}},
				{"group-id", []types.Filter{filter("group-id", ssh)}, []string{ssh}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					out, err := c.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{Filters: tc.filters})
					noErr(t, err)
					if got := idsOf(out.SecurityGroups, groupID); !slices.Equal(got, tc.want) {
						t.Errorf("got %v, want %v", got, tc.want)
					}
				})
			}
			_, err = c.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0123456789abcdef0"}})
			wantCode(t, err, "InvalidGroup.NotFound")
			_, err = c.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-not-an-id"}})
			wantCode(t, err, "InvalidGroupId.Malformed")
			_, err = c.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"no-such-group"}})
			wantCode(t, err, "InvalidGroup.NotFound")
			out, err := c.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"default"}})
			noErr(t, err)
			if len(out.SecurityGroups) != 1 || aws.ToString(out.SecurityGroups[0].VpcId) != def {
				t.Errorf("GroupNames=[default] = %v, want the default VPC's", idsOf(out.SecurityGroups, groupID))
			}
		})

		t.Run("revoke", func(t *testing.T) {
			g := createGroup(t, c, "revoke", vpc)
			auth := func(p types.IpPermission) string {
				t.Helper()
				out, err := c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(g), IpPermissions: []types.IpPermission{p}})
				noErr(t, err)
				return aws.ToString(out.SecurityGroupRules[0].SecurityGroupRuleId)
			}
			auth(tcpFrom(22, 22, "10.0.0.0/8"))
			https := auth(tcpFrom(443, 443, "0.0.0.0/0"))

			_, err := c.RevokeSecurityGroupIngress(t.Context(), &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(g),
				IpPermissions: []types.IpPermission{tcpFrom(22, 22, "10.0.0.0/8")}})
			noErr(t, err)
			_, err = c.RevokeSecurityGroupIngress(t.Context(), &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(g),
				IpPermissions: []types.IpPermission{tcpFrom(22, 22, "10.0.0.0/8")}})
			wantCode(t, err, "InvalidPermission.NotFound")
			_, err = c.RevokeSecurityGroupIngress(t.Context(), &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(g),
				SecurityGroupRuleIds: []string{"sgr-0123456789abcdef0"}})
			wantCode(t, err, "InvalidSecurityGroupRuleId.NotFound")
			out, err := c.RevokeSecurityGroupIngress(t.Context(), &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(g),
				SecurityGroupRuleIds: []string{https}})
			noErr(t, err)
			if !aws.ToBool(out.Return) {
				t.Error("revoke by rule id returned false")
			}
			if p := group(t, c, g).IpPermissions; len(p) != 0 {
				t.Errorf("after revoking both rules the group still has %+v", p)
			}
			_, err = c.RevokeSecurityGroupIngress(t.Context(), &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String("sg-0123456789abcdef0"),
				IpPermissions: []types.IpPermission{tcpFrom(22, 22, "10.0.0.0/8")}})
			wantCode(t, err, "InvalidGroup.NotFound")
		})

		t.Run("egress", func(t *testing.T) {
			g := createGroup(t, c, "egress", vpc)
			out, err := c.AuthorizeSecurityGroupEgress(t.Context(), &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(g),
				IpPermissions: []types.IpPermission{tcpFrom(443, 443, "0.0.0.0/0")}})
			noErr(t, err)
			if len(out.SecurityGroupRules) != 1 || !aws.ToBool(out.SecurityGroupRules[0].IsEgress) {
				t.Errorf("AuthorizeSecurityGroupEgress = %+v, want one egress rule", out.SecurityGroupRules)
			}
			allOut := types.IpPermission{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}
			_, err = c.AuthorizeSecurityGroupEgress(t.Context(), &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(g),
				IpPermissions: []types.IpPermission{allOut}})
			wantCode(t, err, "InvalidPermission.Duplicate")
			_, err = c.RevokeSecurityGroupEgress(t.Context(), &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(g),
				IpPermissions: []types.IpPermission{allOut}})
			noErr(t, err)
			eg := group(t, c, g).IpPermissionsEgress
			if len(eg) != 1 || aws.ToString(eg[0].IpProtocol) != "tcp" || aws.ToInt32(eg[0].FromPort) != 443 {
				t.Errorf("egress after revoking allow-all = %+v, want only tcp 443", eg)
			}
			_, err = c.RevokeSecurityGroupEgress(t.Context(), &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(g),
				IpPermissions: []types.IpPermission{allOut}})
			wantCode(t, err, "InvalidPermission.NotFound")
			// Ingress rule ids are not egress rule ids.
			in, err := c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(g),
				IpPermissions: []types.IpPermission{tcpFrom(22, 22, "10.0.0.0/8")}})
			noErr(t, err)
			_, err = c.RevokeSecurityGroupEgress(t.Context(), &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(g),
				SecurityGroupRuleIds: []string{aws.ToString(in.SecurityGroupRules[0].SecurityGroupRuleId)}})
			wantCode(t, err, "InvalidSecurityGroupRuleId.NotFound")
		})

		t.Run("DescribeSecurityGroupRules", func(t *testing.T) {
			g := createGroup(t, c, "rules", vpc)
			out, err := c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(g),
				IpPermissions: []types.IpPermission{tcpFrom(22, 22, "10.0.0.0/8", "10.1.0.0/16")}})
			noErr(t, err)
			if len(out.SecurityGroupRules) != 2 {
				t.Fatalf("two ranges gave %d rules, want 2", len(out.SecurityGroupRules))
			}
			ingress := idsOf(out.SecurityGroupRules, ruleID)

			rules, err := c.DescribeSecurityGroupRules(t.Context(), &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{filter("group-id", g)}})
			noErr(t, err)
			var egress int
			for _, r := range rules.SecurityGroupRules {
				if aws.ToString(r.GroupId) != g {
					t.Errorf("group-id=%s returned a rule of %s", g, aws.ToString(r.GroupId))
				}
				if aws.ToBool(r.IsEgress) {
					egress++
					if aws.ToString(r.IpProtocol) != "-1" || aws.ToString(r.CidrIpv4) != "0.0.0.0/0" {
						t.Errorf("egress rule = %+v, want the default allow-all", r)
					}
				}
			}
			if len(rules.SecurityGroupRules) != 3 || egress != 1 {
				t.Errorf("group-id filter: %d rules (%d egress), want 2 ingress + 1 egress", len(rules.SecurityGroupRules), egress)
			}

			byID, err := c.DescribeSecurityGroupRules(t.Context(), &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: ingress})
			noErr(t, err)
			if got := idsOf(byID.SecurityGroupRules, ruleID); !slices.Equal(got, ingress) {
				t.Errorf("by ids: got %v, want %v", got, ingress)
			}
			_, err = c.DescribeSecurityGroupRules(t.Context(), &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{"sgr-0123456789abcdef0"}})
			wantCode(t, err, "InvalidSecurityGroupRuleId.NotFound")
		})

		t.Run("DeleteSecurityGroup", func(t *testing.T) {
			target := createGroup(t, c, "target", vpc)
			user := createGroup(t, c, "user", vpc)
			out, err := c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(user),
				IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432),
					UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(target)}}}}})
			noErr(t, err)
			_, err = c.DeleteSecurityGroup(t.Context(), &ec2.DeleteSecurityGroupInput{GroupId: aws.String(target)})
			wantCode(t, err, "DependencyViolation")
			group(t, c, target) // still there

			_, err = c.RevokeSecurityGroupIngress(t.Context(), &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(user),
				SecurityGroupRuleIds: []string{aws.ToString(out.SecurityGroupRules[0].SecurityGroupRuleId)}})
			noErr(t, err)
			_, err = c.DeleteSecurityGroup(t.Context(), &ec2.DeleteSecurityGroupInput{GroupId: aws.String(target)})
			noErr(t, err)
			_, err = c.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{target}})
			wantCode(t, err, "InvalidGroup.NotFound")
			_, err = c.DeleteSecurityGroup(t.Context(), &ec2.DeleteSecurityGroupInput{GroupId: aws.String(target)})
			wantCode(t, err, "InvalidGroup.NotFound")

			// A rule naming its own group does not keep the group alive.
			self := createGroup(t, c, "self", vpc)
			_, err = c.AuthorizeSecurityGroupIngress(t.Context(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(self),
				IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(self)}}}}})
			noErr(t, err)
			_, err = c.DeleteSecurityGroup(t.Context(), &ec2.DeleteSecurityGroupInput{GroupId: aws.String(self)})
			noErr(t, err)

			defaults, err := c.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("group-name", "default"), filter("vpc-id", vpc)}})
			noErr(t, err)
			if len(defaults.SecurityGroups) != 1 {
				t.Fatalf("VPC %s has %d default groups", vpc, len(defaults.SecurityGroups))
			}
			_, err = c.DeleteSecurityGroup(t.Context(), &ec2.DeleteSecurityGroupInput{GroupId: defaults.SecurityGroups[0].GroupId})
			wantCode(t, err, "CannotDelete")
			_, err = c.DeleteSecurityGroup(t.Context(), &ec2.DeleteSecurityGroupInput{GroupName: aws.String("default")})
			wantCode(t, err, "CannotDelete")
			_, err = c.DeleteSecurityGroup(t.Context(), &ec2.DeleteSecurityGroupInput{GroupId: aws.String("sg-!")})
			wantCode(t, err, "InvalidGroupId.Malformed")
		})
	})
}
