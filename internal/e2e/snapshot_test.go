package e2e_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// accountState is a comparable summary of an account's EC2 resources:
// one line per VPC, subnet, group (with its rules), key pair and tag.
type accountState []string

// snapshot describes everything the account has.
func snapshot(t *testing.T, c *ec2.Client) accountState {
	t.Helper()
	ctx := t.Context()
	var s accountState
	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	noErr(t, err)
	for _, v := range vpcs.Vpcs {
		s = append(s, fmt.Sprintf("vpc %s %s default=%v", aws.ToString(v.VpcId), aws.ToString(v.CidrBlock), aws.ToBool(v.IsDefault)))
		for _, a := range []string{"enableDnsSupport", "enableDnsHostnames"} {
			out, err := c.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: v.VpcId, Attribute: types.VpcAttributeName(a)})
			noErr(t, err)
			value := out.EnableDnsSupport
			if value == nil {
				value = out.EnableDnsHostnames
			}
			s = append(s, fmt.Sprintf("vpc %s %s=%v", aws.ToString(v.VpcId), a, value != nil && aws.ToBool(value.Value)))
		}
	}
	subnets, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	noErr(t, err)
	for _, sn := range subnets.Subnets {
		s = append(s, fmt.Sprintf("subnet %s %s %s %s", aws.ToString(sn.SubnetId), aws.ToString(sn.VpcId), aws.ToString(sn.CidrBlock), aws.ToString(sn.AvailabilityZone)))
	}
	groups, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
	noErr(t, err)
	for _, g := range groups.SecurityGroups {
		s = append(s, fmt.Sprintf("group %s %s %s %q", aws.ToString(g.GroupId), aws.ToString(g.VpcId), aws.ToString(g.GroupName), aws.ToString(g.Description)))
	}
	rules, err := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{})
	noErr(t, err)
	for _, r := range rules.SecurityGroupRules {
		ref := ""
		if r.ReferencedGroupInfo != nil {
			ref = aws.ToString(r.ReferencedGroupInfo.GroupId)
		}
		s = append(s, fmt.Sprintf("rule %s %s egress=%v %s %d-%d %s%s", aws.ToString(r.SecurityGroupRuleId), aws.ToString(r.GroupId), aws.ToBool(r.IsEgress),
			aws.ToString(r.IpProtocol), aws.ToInt32(r.FromPort), aws.ToInt32(r.ToPort), aws.ToString(r.CidrIpv4), ref))
	}
	keys, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	noErr(t, err)
	for _, k := range keys.KeyPairs {
		s = append(s, fmt.Sprintf("key %s %s %s", aws.ToString(k.KeyPairId), aws.ToString(k.KeyName), aws.ToString(k.KeyFingerprint)))
	}
	tags, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{})
	noErr(t, err)
	for _, d := range tags.Tags {
		s = append(s, fmt.Sprintf("tag %s %s %q=%q", aws.ToString(d.ResourceId), d.ResourceType, aws.ToString(d.Key), aws.ToString(d.Value)))
	}
	slices.Sort(s)
	return s
}

// diff lists the lines only in s (+) or only in before (-).
func (s accountState) diff(before accountState) string {
	var b strings.Builder
	for _, l := range s {
		if !slices.Contains(before, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	for _, l := range before {
		if !slices.Contains(s, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	return b.String()
}
