package ec2_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// tfCreateVPC is aws_vpc's create: CreateVpc with the provider's fixed
// parameters, DescribeVpcs until available, EnableDnsHostnames=true and
// DescribeVpcAttribute until it shows.
func tfCreateVPC(t *testing.T, c *ec2.Client, cidr string) string {
	t.Helper()
	ctx := context.Background()
	out, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr), InstanceTenancy: types.TenancyDefault,
		AmazonProvidedIpv6CidrBlock: aws.Bool(false), TagSpecifications: tagSpec(types.ResourceTypeVpc, "Name", "tf")})
	step(t, "CreateVpc", err)
	id := aws.ToString(out.Vpc.VpcId)
	if v := tfReadVPC(t, c, id); v.State != types.VpcStateAvailable {
		t.Fatalf("DescribeVpcs: state %s, want available", v.State)
	}
	_, err = c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: &id, EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	step(t, "ModifyVpcAttribute EnableDnsHostnames", err)
	a, err := c.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: &id, Attribute: types.VpcAttributeNameEnableDnsHostnames})
	step(t, "DescribeVpcAttribute enableDnsHostnames", err)
	if a.EnableDnsHostnames == nil || !aws.ToBool(a.EnableDnsHostnames.Value) {
		t.Fatalf("DescribeVpcAttribute enableDnsHostnames after the modify: %+v", a.EnableDnsHostnames)
	}
	return id
}

// tfReadVPC is DescribeVpcs [VpcId.1], which must answer exactly that VPC.
func tfReadVPC(t *testing.T, c *ec2.Client, id string) types.Vpc {
	t.Helper()
	out, err := c.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{VpcIds: []string{id}})
	step(t, "DescribeVpcs VpcId.1", err)
	if len(out.Vpcs) != 1 || aws.ToString(out.Vpcs[0].VpcId) != id {
		t.Fatalf("DescribeVpcs VpcId.1=%s answered %+v", id, out.Vpcs)
	}
	return out.Vpcs[0]
}

// vpcRead is what aws_vpc's Read gathers.
type vpcRead struct {
	VPC                      types.Vpc
	Hostnames, Support, NAUM bool
	ACL, MainRT, DefaultSG   string
}

func tfVPCRead(t *testing.T, c *ec2.Client, id string) vpcRead {
	t.Helper()
	ctx := context.Background()
	r := vpcRead{VPC: tfReadVPC(t, c, id)}
	for name, dst := range map[types.VpcAttributeName]*bool{types.VpcAttributeNameEnableDnsHostnames: &r.Hostnames,
		types.VpcAttributeNameEnableDnsSupport: &r.Support, types.VpcAttributeNameEnableNetworkAddressUsageMetrics: &r.NAUM} {
		a, err := c.DescribeVpcAttribute(ctx, &ec2.DescribeVpcAttributeInput{VpcId: &id, Attribute: name})
		step(t, "DescribeVpcAttribute "+string(name), err)
		for _, v := range []*types.AttributeBooleanValue{a.EnableDnsHostnames, a.EnableDnsSupport, a.EnableNetworkAddressUsageMetrics} {
			if v != nil {
				*dst = aws.ToBool(v.Value)
			}
		}
	}
	// Tolerated by the provider, but each leaves a default_* ID empty.
	acls, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{flt("default", "true"), flt("vpc-id", id)}})
	if err != nil || len(acls.NetworkAcls) != 1 {
		t.Fatalf("DescribeNetworkAcls default=true vpc-id: %+v %v", acls, err)
	}
	r.ACL = aws.ToString(acls.NetworkAcls[0].NetworkAclId)
	rts, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{flt("association.main", "true"), flt("vpc-id", id)}})
	if err != nil || len(rts.RouteTables) != 1 {
		t.Fatalf("DescribeRouteTables association.main=true vpc-id: %+v %v", rts, err)
	}
	r.MainRT = aws.ToString(rts.RouteTables[0].RouteTableId)
	sgs, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{flt("group-name", "default"), flt("vpc-id", id)}})
	if err != nil || len(sgs.SecurityGroups) != 1 {
		t.Fatalf("DescribeSecurityGroups group-name=default vpc-id: %+v %v", sgs, err)
	}
	r.DefaultSG = aws.ToString(sgs.SecurityGroups[0].GroupId)
	return r
}

// TestTerraformVPCCalls replays aws_vpc (reference §2): create, Read (every
// call fatal but the three default_* look-ups), a no-diff second Read, a tag
// update, delete until InvalidVpcID.NotFound.
func TestTerraformVPCCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		a := srv.NewAccount(t, "a")
		id := tfCreateVPC(t, a.EC2, "10.0.0.0/16")
		other := tfCreateVPC(t, a.EC2, "10.1.0.0/16") // VpcId.1 must not answer the first VPC (§0.2)

		r := tfVPCRead(t, a.EC2, id)
		v := r.VPC
		if aws.ToString(v.CidrBlock) != "10.0.0.0/16" || v.InstanceTenancy != types.TenancyDefault ||
			aws.ToString(v.DhcpOptionsId) == "" || aws.ToString(v.OwnerId) != a.ID || len(v.Ipv6CidrBlockAssociationSet) != 0 {
			t.Errorf("DescribeVpcs: %+v", v)
		}
		wantTags(t, "vpc", v.Tags, map[string]string{"Name": "tf"})
		if !r.Hostnames || !r.Support || r.NAUM {
			t.Errorf("attributes: hostnames %v support %v network-address-usage-metrics %v, want true true false", r.Hostnames, r.Support, r.NAUM)
		}
		sameRead(t, "aws_vpc Read", r, tfVPCRead(t, a.EC2, id))
		if o := tfReadVPC(t, a.EC2, other); aws.ToString(o.CidrBlock) != "10.1.0.0/16" {
			t.Errorf("DescribeVpcs VpcId.1=%s answered %+v", other, o)
		}

		// Update: tags (DeleteTags sends the old value), then an attribute.
		_, err := a.EC2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("tf")}}})
		step(t, "DeleteTags", err)
		_, err = a.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("Env"), Value: aws.String("test")}}})
		step(t, "CreateTags", err)
		_, err = a.EC2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: &id, EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(false)}})
		step(t, "ModifyVpcAttribute EnableDnsHostnames=false", err)
		r2 := tfVPCRead(t, a.EC2, id)
		wantTags(t, "vpc after update", r2.VPC.Tags, map[string]string{"Env": "test"})
		if r2.Hostnames || r2.ACL != r.ACL || r2.MainRT != r.MainRT || r2.DefaultSG != r.DefaultSG {
			t.Errorf("after update: %+v (before %+v)", r2, r)
		}

		// Delete: DeleteVpc, then DescribeVpcs until InvalidVpcID.NotFound.
		_, err = a.EC2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &id})
		step(t, "DeleteVpc", err)
		_, err = a.EC2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
		wantClientError(t, err, "InvalidVpcID.NotFound")
		_, err = a.EC2.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &id})
		wantClientError(t, err, "InvalidVpcID.NotFound")
	})
}

// TestTerraformSubnetCalls replays aws_subnet: create in kumo-1a, the Read
// (fatal) twice without a diff, the delete's DescribeNetworkInterfaces
// [subnet-id] then DeleteSubnet until InvalidSubnetID.NotFound.
func TestTerraformSubnetCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		a := srv.NewAccount(t, "a")
		vpc := tfCreateVPC(t, a.EC2, "10.0.0.0/16")
		out, err := a.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpc, CidrBlock: aws.String("10.0.1.0/24"),
			AvailabilityZone: aws.String("kumo-1a"), TagSpecifications: tagSpec(types.ResourceTypeSubnet, "Name", "tf")})
		step(t, "CreateSubnet", err)
		id := aws.ToString(out.Subnet.SubnetId)
		other, err := a.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpc, CidrBlock: aws.String("10.0.2.0/24"), AvailabilityZone: aws.String("kumo-1b")})
		step(t, "CreateSubnet (a second one)", err)
		_ = other

		read := func() types.Subnet {
			t.Helper()
			o, err := a.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})
			step(t, "DescribeSubnets SubnetId.1", err)
			if len(o.Subnets) != 1 || aws.ToString(o.Subnets[0].SubnetId) != id {
				t.Fatalf("DescribeSubnets SubnetId.1=%s answered %+v", id, o.Subnets)
			}
			return o.Subnets[0]
		}
		s := read()
		if s.State != types.SubnetStateAvailable || aws.ToString(s.AvailabilityZone) != "kumo-1a" || aws.ToString(s.AvailabilityZoneId) == "" ||
			aws.ToString(s.CidrBlock) != "10.0.1.0/24" || aws.ToString(s.VpcId) != vpc || aws.ToString(s.OwnerId) != a.ID ||
			aws.ToString(s.SubnetArn) == "" || aws.ToBool(s.MapPublicIpOnLaunch) || aws.ToBool(s.AssignIpv6AddressOnCreation) ||
			aws.ToBool(s.EnableDns64) || aws.ToBool(s.MapCustomerOwnedIpOnLaunch) || len(s.Ipv6CidrBlockAssociationSet) != 0 {
			t.Errorf("DescribeSubnets: %+v", s)
		}
		if o := s.PrivateDnsNameOptionsOnLaunch; o != nil && (aws.ToBool(o.EnableResourceNameDnsAAAARecord) || aws.ToBool(o.EnableResourceNameDnsARecord)) {
			t.Errorf("privateDnsNameOptionsOnLaunch: %+v, want the record options false", o)
		}
		wantTags(t, "subnet", s.Tags, map[string]string{"Name": "tf"})
		sameRead(t, "aws_subnet Read", s, read())

		enis, err := a.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{flt("subnet-id", id)}})
		step(t, "DescribeNetworkInterfaces subnet-id", err)
		if len(enis.NetworkInterfaces) != 0 {
			t.Errorf("DescribeNetworkInterfaces subnet-id of an empty subnet: %+v", enis.NetworkInterfaces)
		}
		_, err = a.EC2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &id})
		step(t, "DeleteSubnet", err)
		_, err = a.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})
		wantClientError(t, err, "InvalidSubnetID.NotFound")
		_, err = a.EC2.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &id})
		wantClientError(t, err, "InvalidSubnetID.NotFound")
	})
}
