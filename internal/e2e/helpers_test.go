package e2e_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// zones are the availability zones controllertest servers present.
var zones = []string{"kumo-1a", "kumo-1b", "kumo-1c"}

// start runs a controller on b and creates one account on it.
func start(t *testing.T, b storetest.Backend) (*controllertest.Server, *controllertest.Account) {
	t.Helper()
	srv := controllertest.Start(t, b)
	return srv, srv.NewAccount(t, "team-a")
}

// wantCode fails the test unless err is an AWS API error with that code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Errorf("call succeeded, want error %s", code)
		return
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("got %v, want API error %s", err, code)
		return
	}
	if ae.ErrorCode() != code {
		t.Errorf("got error %s (%q), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
}

// noErr stops the test on an unexpected error.
func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// tagList builds tags from key, value pairs.
func tagList(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

// tagSpec asks for tags on a resource being created.
func tagSpec(rt types.ResourceType, kv ...string) []types.TagSpecification {
	return []types.TagSpecification{{ResourceType: rt, Tags: tagList(kv...)}}
}

// tagsOf turns a resource's tag set into a map.
func tagsOf(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// filter builds one Describe filter.
func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

// idsOf returns the ids of items, sorted.
func idsOf[T any](items []T, id func(T) *string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, aws.ToString(id(it)))
	}
	slices.Sort(out)
	return out
}

func vpcID(v types.Vpc) *string                  { return v.VpcId }
func subnetID(s types.Subnet) *string            { return s.SubnetId }
func groupID(g types.SecurityGroup) *string      { return g.GroupId }
func ruleID(r types.SecurityGroupRule) *string   { return r.SecurityGroupRuleId }
func keyPairID(k types.KeyPairInfo) *string      { return k.KeyPairId }
func keyName(k types.KeyPairInfo) *string        { return k.KeyName }
func tagResource(d types.TagDescription) *string { return d.ResourceId }
func zoneName(z types.AvailabilityZone) *string  { return z.ZoneName }
func regionName(r types.Region) *string          { return r.RegionName }

// sorted returns a sorted copy of s.
func sorted(s ...string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// createVPC makes a VPC and returns its id.
func createVPC(t testing.TB, c *ec2.Client, cidr string, kv ...string) string {
	t.Helper()
	in := &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)}
	if len(kv) > 0 {
		in.TagSpecifications = tagSpec(types.ResourceTypeVpc, kv...)
	}
	out, err := c.CreateVpc(t.Context(), in)
	noErr(t, err)
	return aws.ToString(out.Vpc.VpcId)
}

// createSubnet makes a subnet and returns its id.
func createSubnet(t testing.TB, c *ec2.Client, vpc, cidr, zone string) string {
	t.Helper()
	out, err := c.CreateSubnet(t.Context(), &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(zone)})
	noErr(t, err)
	return aws.ToString(out.Subnet.SubnetId)
}

// createGroup makes a security group (in the default VPC when vpc is "") and returns its id.
func createGroup(t testing.TB, c *ec2.Client, name, vpc string) string {
	t.Helper()
	in := &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String("group " + name)}
	if vpc != "" {
		in.VpcId = aws.String(vpc)
	}
	out, err := c.CreateSecurityGroup(t.Context(), in)
	noErr(t, err)
	return aws.ToString(out.GroupId)
}

// defaultVPC returns the account's default VPC.
func defaultVPC(t testing.TB, c *ec2.Client) types.Vpc {
	t.Helper()
	out, err := c.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("is-default", "true")}})
	noErr(t, err)
	if len(out.Vpcs) != 1 {
		t.Fatalf("default VPCs: got %d, want 1", len(out.Vpcs))
	}
	return out.Vpcs[0]
}

// group describes one security group by id.
func group(t testing.TB, c *ec2.Client, id string) types.SecurityGroup {
	t.Helper()
	out, err := c.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	noErr(t, err)
	if len(out.SecurityGroups) != 1 {
		t.Fatalf("DescribeSecurityGroups(%s): got %d groups, want 1", id, len(out.SecurityGroups))
	}
	return out.SecurityGroups[0]
}

// tcpFrom is an ingress permission for TCP ports from..to from cidrs.
func tcpFrom(from, to int32, cidrs ...string) types.IpPermission {
	p := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(from), ToPort: aws.Int32(to)}
	for _, c := range cidrs {
		p.IpRanges = append(p.IpRanges, types.IpRange{CidrIp: aws.String(c)})
	}
	return p
}
