package ec2_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/nodeserver/nodeservertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func oneRule(t *testing.T, c *ec2.Client, id string) types.SecurityGroupRule {
	t.Helper()
	out, err := c.DescribeSecurityGroupRules(context.Background(), &ec2.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{id}})
	if err != nil || len(out.SecurityGroupRules) != 1 {
		t.Fatalf("DescribeSecurityGroupRules %s: %+v %v", id, out, err)
	}
	return out.SecurityGroupRules[0]
}

// TestModifySecurityGroupRulesAsTerraform: aws_vpc_security_group_ingress_rule
// and _egress_rule update a rule (here its description, then its ports and
// peer) with ModifySecurityGroupRules; the rule keeps its id and direction.
// It failed as an unknown action.
func TestModifySecurityGroupRulesAsTerraform(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		c := srv.NewAccount(t, "a").EC2
		vpc := mustVPC(t, c, "10.70.0.0/16")
		mk := func(name string) string {
			out, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name), VpcId: &vpc})
			if err != nil {
				t.Fatal(err)
			}
			return *out.GroupId
		}
		web, peer := mk("web"), mk("peer")
		auth, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &web, IpPermissions: []types.IpPermission{
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []types.IpRange{{CidrIp: aws.String("203.0.113.0/24"), Description: aws.String("ssh")}}},
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: &peer, Description: aws.String("from peer")}}}}})
		if err != nil || len(auth.SecurityGroupRules) != 2 {
			t.Fatalf("authorize: %+v %v", auth, err)
		}
		cidrRule, groupRule := *auth.SecurityGroupRules[0].SecurityGroupRuleId, *auth.SecurityGroupRules[1].SecurityGroupRuleId
		modify := func(rules ...types.SecurityGroupRuleUpdate) error {
			out, err := c.ModifySecurityGroupRules(ctx, &ec2.ModifySecurityGroupRulesInput{GroupId: &web, SecurityGroupRules: rules})
			if err == nil && !aws.ToBool(out.Return) {
				t.Fatalf("ModifySecurityGroupRules returned false")
			}
			return err
		}
		// What the provider sends for a changed description.
		err = modify(types.SecurityGroupRuleUpdate{SecurityGroupRuleId: &cidrRule, SecurityGroupRule: &types.SecurityGroupRuleRequest{
			IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), CidrIpv4: aws.String("203.0.113.0/24"), Description: aws.String("ssh from the office")}},
			types.SecurityGroupRuleUpdate{SecurityGroupRuleId: &groupRule, SecurityGroupRule: &types.SecurityGroupRuleRequest{
				IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), ReferencedGroupId: &peer, Description: aws.String("https from peer")}})
		if err != nil {
			t.Fatal(err)
		}
		r := oneRule(t, c, cidrRule)
		if aws.ToString(r.Description) != "ssh from the office" || aws.ToString(r.CidrIpv4) != "203.0.113.0/24" || aws.ToBool(r.IsEgress) || aws.ToString(r.GroupId) != web {
			t.Errorf("cidr rule after modify: %+v", r)
		}
		g := oneRule(t, c, groupRule)
		if aws.ToString(g.Description) != "https from peer" || g.ReferencedGroupInfo == nil || aws.ToString(g.ReferencedGroupInfo.GroupId) != peer {
			t.Errorf("group rule after modify: %+v", g)
		}
		// Ports and peer change too.
		if err := modify(types.SecurityGroupRuleUpdate{SecurityGroupRuleId: &cidrRule, SecurityGroupRule: &types.SecurityGroupRuleRequest{
			IpProtocol: aws.String("udp"), FromPort: aws.Int32(53), ToPort: aws.Int32(53), CidrIpv4: aws.String("198.51.100.7/32")}}); err != nil {
			t.Fatal(err)
		}
		if r := oneRule(t, c, cidrRule); aws.ToString(r.IpProtocol) != "udp" || aws.ToInt32(r.FromPort) != 53 || aws.ToString(r.CidrIpv4) != "198.51.100.7/32" || r.Description != nil && *r.Description != "" {
			t.Errorf("cidr rule after the second modify: %+v", r)
		}

		// Errors.
		rule := func(id string, q types.SecurityGroupRuleRequest) types.SecurityGroupRuleUpdate {
			return types.SecurityGroupRuleUpdate{SecurityGroupRuleId: aws.String(id), SecurityGroupRule: &q}
		}
		tcp := func(port int32) types.SecurityGroupRuleRequest {
			return types.SecurityGroupRuleRequest{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port), CidrIpv4: aws.String("10.0.0.0/8")}
		}
		twoPeers := tcp(80)
		twoPeers.ReferencedGroupId = &peer
		for name, c := range map[string]struct {
			err  error
			code string
		}{
			"unknown rule":    {modify(rule("sgr-0123456789abcdef0", tcp(80))), "InvalidSecurityGroupRuleId.NotFound"},
			"malformed rule":  {modify(rule("rule-1", tcp(80))), "InvalidSecurityGroupRuleId.Malformed"},
			"two peers":       {modify(rule(cidrRule, twoPeers)), "InvalidParameterCombination"},
			"bad port range":  {modify(rule(cidrRule, types.SecurityGroupRuleRequest{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(90), ToPort: aws.Int32(80), CidrIpv4: aws.String("10.0.0.0/8")})), "InvalidParameterValue"},
			"same as another": {modify(rule(cidrRule, types.SecurityGroupRuleRequest{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), ReferencedGroupId: &peer})), "InvalidPermission.Duplicate"},
			"no rule request": {modify(types.SecurityGroupRuleUpdate{SecurityGroupRuleId: &cidrRule}), "MissingParameter"},
		} {
			t.Run(name, func(t *testing.T) { wantClientError(t, c.err, c.code) })
		}
		_, err = c.ModifySecurityGroupRules(ctx, &ec2.ModifySecurityGroupRulesInput{GroupId: &peer, SecurityGroupRules: []types.SecurityGroupRuleUpdate{rule(cidrRule, tcp(80))}})
		wantClientError(t, err, "InvalidSecurityGroupRuleId.NotFound") // a rule of another group
		_, err = c.ModifySecurityGroupRules(ctx, &ec2.ModifySecurityGroupRulesInput{GroupId: aws.String("sg-0123456789abcdef0"), SecurityGroupRules: []types.SecurityGroupRuleUpdate{rule(cidrRule, tcp(80))}})
		wantClientError(t, err, "InvalidGroup.NotFound")
	})
}

func nodeHasIngress(d *nodeapi.Desired, group, proto string, port int, cidr string) bool {
	for _, v := range d.VPCs {
		for _, g := range v.SecurityGroups {
			for _, r := range g.Ingress {
				if g.ID == group && r.Protocol == proto && r.FromPort == port && len(r.CIDRs) == 1 && r.CIDRs[0] == cidr {
					return true
				}
			}
		}
	}
	return false
}

// TestModifiedRuleReachesTheNode: a rule changed by ModifySecurityGroupRules
// is in a connected node's desired state within a second, as one added by
// Authorize is.
func TestModifiedRuleReachesTheNode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := t.Context()
		srv := controllertest.Start(t, b)
		acct := srv.NewAccount(t, "sgmod")
		subnets, err := acct.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
		if err != nil || len(subnets.Subnets) == 0 {
			t.Fatalf("default subnets: %v", err)
		}
		sn := subnets.Subnets[0]
		sg, err := acct.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: sn.VpcId})
		if err != nil {
			t.Fatal(err)
		}
		auth, err := acct.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
			IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
				IpRanges: []types.IpRange{{CidrIp: aws.String("203.0.113.0/24")}}}}})
		if err != nil {
			t.Fatal(err)
		}
		s := nodeservertest.JoinWithGuest(t, srv, acct.ID, sn, aws.ToString(sg.GroupId))
		if d := nodeservertest.RecvDesired(t, s, 5*time.Second); !nodeHasIngress(d, *sg.GroupId, "tcp", 22, "203.0.113.0/24") {
			t.Fatal("the authorized rule is not in the first desired state")
		}
		_, err = acct.EC2.ModifySecurityGroupRules(ctx, &ec2.ModifySecurityGroupRulesInput{GroupId: sg.GroupId, SecurityGroupRules: []types.SecurityGroupRuleUpdate{{
			SecurityGroupRuleId: auth.SecurityGroupRules[0].SecurityGroupRuleId, SecurityGroupRule: &types.SecurityGroupRuleRequest{
				IpProtocol: aws.String("tcp"), FromPort: aws.Int32(2222), ToPort: aws.Int32(2222), CidrIpv4: aws.String("198.51.100.0/24")}}}})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Second)
		for {
			d := nodeservertest.RecvDesired(t, s, time.Until(deadline))
			if nodeHasIngress(d, *sg.GroupId, "tcp", 2222, "198.51.100.0/24") && !nodeHasIngress(d, *sg.GroupId, "tcp", 22, "203.0.113.0/24") {
				break
			}
		}
	})
}
