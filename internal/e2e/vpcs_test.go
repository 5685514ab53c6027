package e2e_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestDefaultVPC checks what an account finds on first use: one default
// VPC with a default subnet per zone and a default security group.
func TestDefaultVPC(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv, acct := start(t, b)
		c := acct.EC2

		all, err := c.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{})
		noErr(t, err)
		if len(all.Vpcs) != 1 {
			t.Fatalf("a new account has %d VPCs, want 1", len(all.Vpcs))
		}
		v := all.Vpcs[0]
		id := aws.ToString(v.VpcId)
		if aws.ToString(v.CidrBlock) != "172.31.0.0/16" || !aws.ToBool(v.IsDefault) || v.State != types.VpcStateAvailable || aws.ToString(v.OwnerId) != acct.ID {
			t.Errorf("default VPC = %s %s default=%v %s owner %s; want 172.31.0.0/16, default, available, owner %s",
				id, aws.ToString(v.CidrBlock), aws.ToBool(v.IsDefault), v.State, aws.ToString(v.OwnerId), acct.ID)
		}

		subnets, err := c.DescribeSubnets(t.Context(), &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("vpc-id", id)}})
		noErr(t, err)
		want := map[string]string{"kumo-1a": "172.31.0.0/20", "kumo-1b": "172.31.16.0/20", "kumo-1c": "172.31.32.0/20"}
		got := map[string]string{}
		for _, s := range subnets.Subnets {
			got[aws.ToString(s.AvailabilityZone)] = aws.ToString(s.CidrBlock)
			if !aws.ToBool(s.DefaultForAz) || aws.ToInt32(s.AvailableIpAddressCount) != 4091 {
				t.Errorf("default subnet %s: DefaultForAz %v, %d free addresses; want true, 4091",
					aws.ToString(s.SubnetId), aws.ToBool(s.DefaultForAz), aws.ToInt32(s.AvailableIpAddressCount))
			}
		}
		if len(subnets.Subnets) != 3 || !maps.Equal(got, want) {
			t.Errorf("default subnets = %v, want %v", got, want)
		}

		groups, err := c.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("vpc-id", id)}})
		noErr(t, err)
		if len(groups.SecurityGroups) != 1 || aws.ToString(groups.SecurityGroups[0].GroupName) != "default" {
			t.Fatalf("default VPC groups = %+v, want one named default", groups.SecurityGroups)
		}
		g := groups.SecurityGroups[0]
		gid := aws.ToString(g.GroupId)
		if len(g.IpPermissions) != 1 {
			t.Fatalf("default group ingress = %+v, want one self-referencing permission", g.IpPermissions)
		}
		in := g.IpPermissions[0]
		if aws.ToString(in.IpProtocol) != "-1" || len(in.IpRanges) != 0 || len(in.UserIdGroupPairs) != 1 ||
			aws.ToString(in.UserIdGroupPairs[0].GroupId) != gid || aws.ToString(in.UserIdGroupPairs[0].UserId) != acct.ID {
			t.Errorf("default group ingress = %+v, want all traffic from %s (owner %s)", in, gid, acct.ID)
		}
		wantAllowAllEgress(t, g)

		// A second look creates nothing more.
		again, err := c.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{})
		noErr(t, err)
		if len(again.Vpcs) != 1 {
			t.Errorf("after several calls the account has %d VPCs, want 1", len(again.Vpcs))
		}

		t.Run("deleted for good", func(t *testing.T) {
			other := srv.NewAccount(t, "no-default")
			oc := other.EC2
			def := defaultVPC(t, oc)
			subnets, err := oc.DescribeSubnets(t.Context(), &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("vpc-id", aws.ToString(def.VpcId))}})
			noErr(t, err)
			_, err = oc.DeleteVpc(t.Context(), &ec2.DeleteVpcInput{VpcId: def.VpcId})
			wantCode(t, err, "DependencyViolation")
			for _, s := range subnets.Subnets {
				_, err := oc.DeleteSubnet(t.Context(), &ec2.DeleteSubnetInput{SubnetId: s.SubnetId})
				noErr(t, err)
			}
			// As in AWS, the default VPC's internet gateway must go first.
			_, err = oc.DeleteVpc(t.Context(), &ec2.DeleteVpcInput{VpcId: def.VpcId})
			wantCode(t, err, "DependencyViolation")
			gws, err := oc.DescribeInternetGateways(t.Context(), &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{filter("attachment.vpc-id", aws.ToString(def.VpcId))}})
			noErr(t, err)
			for _, g := range gws.InternetGateways {
				_, err = oc.DetachInternetGateway(t.Context(), &ec2.DetachInternetGatewayInput{InternetGatewayId: g.InternetGatewayId, VpcId: def.VpcId})
				noErr(t, err)
				_, err = oc.DeleteInternetGateway(t.Context(), &ec2.DeleteInternetGatewayInput{InternetGatewayId: g.InternetGatewayId})
				noErr(t, err)
			}
			_, err = oc.DeleteVpc(t.Context(), &ec2.DeleteVpcInput{VpcId: def.VpcId})
			noErr(t, err)

			vpcs, err := oc.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{})
			noErr(t, err)
			if len(vpcs.Vpcs) != 0 {
				t.Errorf("a deleted default VPC came back: %v", idsOf(vpcs.Vpcs, vpcID))
			}
			attrs, err := oc.DescribeAccountAttributes(t.Context(), &ec2.DescribeAccountAttributesInput{AttributeNames: []types.AccountAttributeName{types.AccountAttributeNameDefaultVpc}})
			noErr(t, err)
			if len(attrs.AccountAttributes) != 1 || len(attrs.AccountAttributes[0].AttributeValues) != 1 ||
				aws.ToString(attrs.AccountAttributes[0].AttributeValues[0].AttributeValue) != "none" {
				t.Errorf("default-vpc without a default VPC = %+v, want none", attrs.AccountAttributes)
			}
			_, err = oc.CreateSecurityGroup(t.Context(), &ec2.CreateSecurityGroupInput{GroupName: aws.String("homeless"), Description: aws.String("d")})
			wantCode(t, err, "VPCIdNotSpecified")
			// The first account's default VPC is untouched.
			defaultVPC(t, c)
		})
	})
}

// wantAllowAllEgress checks a group's egress is exactly AWS's default rule.
func wantAllowAllEgress(t *testing.T, g types.SecurityGroup) {
	t.Helper()
	if len(g.IpPermissionsEgress) != 1 {
		t.Errorf("group %s egress = %+v, want the allow-all rule", aws.ToString(g.GroupId), g.IpPermissionsEgress)
		return
	}
	out := g.IpPermissionsEgress[0]
	if aws.ToString(out.IpProtocol) != "-1" || out.FromPort != nil || out.ToPort != nil ||
		len(out.IpRanges) != 1 || aws.ToString(out.IpRanges[0].CidrIp) != "0.0.0.0/0" || len(out.UserIdGroupPairs) != 0 {
		t.Errorf("group %s egress = %+v, want protocol -1 to 0.0.0.0/0", aws.ToString(g.GroupId), out)
	}
}

// TestVPCs covers CreateVpc, DescribeVpcs (ids, filters), DeleteVpc and
// the VPC attributes, with their error codes.
func TestVPCs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		_, acct := start(t, b)
		c := acct.EC2
		def := aws.ToString(defaultVPC(t, c).VpcId)

		out, err := c.CreateVpc(t.Context(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16"),
			TagSpecifications: tagSpec(types.ResourceTypeVpc, "Name", "one", "team", "blue")})
		noErr(t, err)
		one := aws.ToString(out.Vpc.VpcId)
		if out.Vpc.State != types.VpcStateAvailable || aws.ToString(out.Vpc.CidrBlock) != "10.1.0.0/16" || aws.ToBool(out.Vpc.IsDefault) {
			t.Errorf("CreateVpc = %s %s default=%v, want available 10.1.0.0/16 not default", out.Vpc.State, aws.ToString(out.Vpc.CidrBlock), aws.ToBool(out.Vpc.IsDefault))
		}
		if got := tagsOf(out.Vpc.Tags); !maps.Equal(got, map[string]string{"Name": "one", "team": "blue"}) {
			t.Errorf("CreateVpc tags = %v", got)
		}
		two := createVPC(t, c, "10.2.0.0/24", "team", "red")

		t.Run("DescribeVpcs by id", func(t *testing.T) {
			out, err := c.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{VpcIds: []string{one}})
			noErr(t, err)
			if got := idsOf(out.Vpcs, vpcID); !slices.Equal(got, []string{one}) {
				t.Errorf("VpcIds=[%s]: got %v", one, got)
			}
			if got := tagsOf(out.Vpcs[0].Tags); got["team"] != "blue" {
				t.Errorf("described tags = %v", got)
			}
			_, err = c.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-0123456789abcdef0"}})
			wantCode(t, err, "InvalidVpcID.NotFound")
			_, err = c.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{VpcIds: []string{one}, MaxResults: aws.Int32(5)})
			wantCode(t, err, "InvalidParameterCombination")
		})

		t.Run("DescribeVpcs filters", func(t *testing.T) {
			for _, tc := range []struct {
				name    string
				filters []types.Filter
				want    []string
			}{
				{"cidr", []types.Filter{filter("cidr", "10.2.0.0/24")}, []string{two}},
				{"is-default true", []types.Filter{filter("is-default", "true")}, []string{def}},
				{"is-default false", []types.Filter{filter("is-default", "false")}, sorted(one, two)},
				{"tag", []types.Filter{filter("tag:team", "blue")}, []string{one}},
				{"tag values ORed", []types.Filter{filter("tag:team", "blue", "red")}, sorted(one, two)},
				{"tag wildcard", []types.Filter{filter("tag:team", "r*")}, []string{two}},
				{"tag-key", []types.Filter{filter("tag-key", "Name")}, []string{one}},
				{"filters ANDed", []types.Filter{filter("tag-key", "team"), filter("cidr", "10.1.0.0/16")}, []string{one}},
				{"no match", []types.Filter{filter("tag:team", "green")}, []string{}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					out, err := c.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{Filters: tc.filters})
					noErr(t, err)
					if got := idsOf(out.Vpcs, vpcID); !slices.Equal(got, tc.want) {
						t.Errorf("got %v, want %v", got, tc.want)
					}
				})
			}
			_, err := c.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("no-such-filter", "x")}})
			wantCode(t, err, "InvalidParameterValue")
		})

		t.Run("CreateVpc ranges", func(t *testing.T) {
			for _, tc := range []struct{ cidr, code string }{
				{"10.0.0.0/8", "InvalidVpc.Range"},
				{"10.0.0.0/15", "InvalidVpc.Range"},
				{"10.0.0.0/29", "InvalidVpc.Range"},
				{"10.0.0.1/16", "InvalidParameterValue"},
				{"banana", "InvalidParameterValue"},
				{"2001:db8::/56", "InvalidParameterValue"},
			} {
				_, err := c.CreateVpc(t.Context(), &ec2.CreateVpcInput{CidrBlock: aws.String(tc.cidr)})
				wantCode(t, err, tc.code)
			}
			// The smallest and the largest sizes are allowed.
			createVPC(t, c, "10.3.0.0/28")
		})

		t.Run("DeleteVpc", func(t *testing.T) {
			v := createVPC(t, c, "10.4.0.0/16", "doomed", "yes")
			sub := createSubnet(t, c, v, "10.4.1.0/24", "kumo-1a")
			_, err := c.DeleteVpc(t.Context(), &ec2.DeleteVpcInput{VpcId: aws.String(v)})
			wantCode(t, err, "DependencyViolation")
			_, err = c.DeleteSubnet(t.Context(), &ec2.DeleteSubnetInput{SubnetId: aws.String(sub)})
			noErr(t, err)

			g := createGroup(t, c, "in-doomed", v)
			_, err = c.DeleteVpc(t.Context(), &ec2.DeleteVpcInput{VpcId: aws.String(v)})
			wantCode(t, err, "DependencyViolation")
			_, err = c.DeleteSecurityGroup(t.Context(), &ec2.DeleteSecurityGroupInput{GroupId: aws.String(g)})
			noErr(t, err)

			_, err = c.DeleteVpc(t.Context(), &ec2.DeleteVpcInput{VpcId: aws.String(v)})
			noErr(t, err)
			_, err = c.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{VpcIds: []string{v}})
			wantCode(t, err, "InvalidVpcID.NotFound")
			// Its default group and its tags went with it.
			gs, err := c.DescribeSecurityGroups(t.Context(), &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("vpc-id", v)}})
			noErr(t, err)
			if len(gs.SecurityGroups) != 0 {
				t.Errorf("groups of the deleted VPC: %v", idsOf(gs.SecurityGroups, groupID))
			}
			tags, err := c.DescribeTags(t.Context(), &ec2.DescribeTagsInput{Filters: []types.Filter{filter("resource-id", v)}})
			noErr(t, err)
			if len(tags.Tags) != 0 {
				t.Errorf("tags of the deleted VPC remain: %+v", tags.Tags)
			}

			_, err = c.DeleteVpc(t.Context(), &ec2.DeleteVpcInput{VpcId: aws.String(v)})
			wantCode(t, err, "InvalidVpcID.NotFound")
			for _, bad := range []string{"banana", "vpc-", "vpc-XYZ", "subnet-0123456789abcdef0"} {
				_, err = c.DeleteVpc(t.Context(), &ec2.DeleteVpcInput{VpcId: aws.String(bad)})
				wantCode(t, err, "InvalidVpcID.Malformed")
			}
		})

		t.Run("VPC attributes", func(t *testing.T) {
			get := func(attr types.VpcAttributeName) *ec2.DescribeVpcAttributeOutput {
				t.Helper()
				out, err := c.DescribeVpcAttribute(t.Context(), &ec2.DescribeVpcAttributeInput{VpcId: aws.String(one), Attribute: attr})
				noErr(t, err)
				return out
			}
			if out := get(types.VpcAttributeNameEnableDnsHostnames); out.EnableDnsHostnames == nil || aws.ToBool(out.EnableDnsHostnames.Value) {
				t.Errorf("a new VPC's enableDnsHostnames = %+v, want false", out.EnableDnsHostnames)
			}
			if out := get(types.VpcAttributeNameEnableDnsSupport); out.EnableDnsSupport == nil || !aws.ToBool(out.EnableDnsSupport.Value) {
				t.Errorf("a new VPC's enableDnsSupport = %+v, want true", out.EnableDnsSupport)
			}
			_, err := c.ModifyVpcAttribute(t.Context(), &ec2.ModifyVpcAttributeInput{VpcId: aws.String(one),
				EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
			noErr(t, err)
			if out := get(types.VpcAttributeNameEnableDnsHostnames); !aws.ToBool(out.EnableDnsHostnames.Value) {
				t.Errorf("enableDnsHostnames after setting it = %+v, want true", out.EnableDnsHostnames)
			}
			if out := get(types.VpcAttributeNameEnableDnsSupport); !aws.ToBool(out.EnableDnsSupport.Value) {
				t.Error("setting enableDnsHostnames cleared enableDnsSupport")
			}
			_, err = c.ModifyVpcAttribute(t.Context(), &ec2.ModifyVpcAttributeInput{VpcId: aws.String(one),
				EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(false)}, EnableDnsSupport: &types.AttributeBooleanValue{Value: aws.Bool(false)}})
			wantCode(t, err, "InvalidParameterCombination")
			_, err = c.DescribeVpcAttribute(t.Context(), &ec2.DescribeVpcAttributeInput{VpcId: aws.String("vpc-0123456789abcdef0"), Attribute: types.VpcAttributeNameEnableDnsHostnames})
			wantCode(t, err, "InvalidVpcID.NotFound")
			_, err = c.DescribeVpcAttribute(t.Context(), &ec2.DescribeVpcAttributeInput{VpcId: aws.String(one), Attribute: "enableTeleport"})
			wantCode(t, err, "InvalidParameterValue")
		})
	})
}
