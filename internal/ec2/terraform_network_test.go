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
	return onlyOne(t, "DescribeVpcs VpcId.1", id, out.Vpcs, func(v types.Vpc) *string { return v.VpcId })
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

// TestTerraformGatewayRouteCalls replays aws_internet_gateway,
// aws_route_table (with a 0.0.0.0/0 route to the gateway) and
// aws_route_table_association: each create with its waits (the gateway's
// attachment state must read "available"), each Read twice without a diff,
// and each delete down to its NotFound code.
func TestTerraformGatewayRouteCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		a := srv.NewAccount(t, "a")
		vpc := tfCreateVPC(t, a.EC2, "10.0.0.0/16")
		sub, err := a.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpc, CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String("kumo-1a")})
		step(t, "CreateSubnet", err)
		subnet := aws.ToString(sub.Subnet.SubnetId)

		igw := tfCreateIGW(t, a.EC2, vpc, a.ID)
		rt := tfCreateRouteTable(t, a.EC2, vpc, igw, a.ID)

		// Association: AssociateRouteTable, then the association filter until associated.
		as, err := a.EC2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: &rt, SubnetId: &subnet})
		step(t, "AssociateRouteTable", err)
		assoc := aws.ToString(as.AssociationId)
		readAssoc := func() []types.RouteTable {
			t.Helper()
			o, err := a.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{flt("association.route-table-association-id", assoc)}})
			step(t, "DescribeRouteTables association.route-table-association-id", err)
			return o.RouteTables
		}
		got := readAssoc()
		if len(got) != 1 || aws.ToString(got[0].RouteTableId) != rt || !hasAssoc(got[0], assoc, subnet) {
			t.Fatalf("association %s: %+v", assoc, got)
		}
		sameRead(t, "aws_route_table_association Read", got, readAssoc())
		_, err = a.EC2.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: &assoc})
		step(t, "DisassociateRouteTable", err)
		if got := readAssoc(); len(got) != 0 {
			t.Errorf("the association filter still answers after DisassociateRouteTable: %+v", got)
		}
		_, err = a.EC2.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: &assoc})
		wantClientError(t, err, "InvalidAssociationID.NotFound")

		// Route table delete: DescribeRouteTables, DeleteRouteTable, until NotFound.
		tfReadRouteTable(t, a.EC2, rt)
		_, err = a.EC2.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: &rt})
		step(t, "DeleteRouteTable", err)
		_, err = a.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{rt}})
		wantClientError(t, err, "InvalidRouteTableID.NotFound")

		// Gateway delete: detach, wait detached, delete; a second detach is Gateway.NotAttached.
		_, err = a.EC2.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc})
		step(t, "DetachInternetGateway", err)
		if g := tfReadIGW(t, a.EC2, igw); len(g.Attachments) != 0 {
			t.Errorf("attachments after detach: %+v", g.Attachments)
		}
		_, err = a.EC2.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc})
		wantClientError(t, err, "Gateway.NotAttached")
		_, err = a.EC2.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: &igw})
		step(t, "DeleteInternetGateway", err)
		_, err = a.EC2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{igw}})
		wantClientError(t, err, "InvalidInternetGatewayID.NotFound")
	})
}

func hasAssoc(rt types.RouteTable, assoc, subnet string) bool {
	for _, x := range rt.Associations {
		if aws.ToString(x.RouteTableAssociationId) == assoc {
			return aws.ToString(x.SubnetId) == subnet && x.AssociationState != nil &&
				x.AssociationState.State == types.RouteTableAssociationStateCodeAssociated
		}
	}
	return false
}

func tfCreateIGW(t *testing.T, c *ec2.Client, vpc, account string) string {
	t.Helper()
	ctx := context.Background()
	out, err := c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{TagSpecifications: tagSpec(types.ResourceTypeInternetGateway, "Name", "tf")})
	step(t, "CreateInternetGateway", err)
	igw := aws.ToString(out.InternetGateway.InternetGatewayId)
	_, err = c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc})
	step(t, "AttachInternetGateway", err)
	g := tfReadIGW(t, c, igw)
	if len(g.Attachments) != 1 || aws.ToString(g.Attachments[0].VpcId) != vpc || g.Attachments[0].State != types.AttachmentStatus("available") {
		t.Fatalf("DescribeInternetGateways attachmentSet: %+v, want one %s in state available", g.Attachments, vpc)
	}
	if aws.ToString(g.OwnerId) != account {
		t.Errorf("internet gateway ownerId %q, want %q", aws.ToString(g.OwnerId), account)
	}
	wantTags(t, "internet gateway", g.Tags, map[string]string{"Name": "tf"})
	sameRead(t, "aws_internet_gateway Read", g, tfReadIGW(t, c, igw))
	return igw
}

func tfReadIGW(t *testing.T, c *ec2.Client, id string) types.InternetGateway {
	t.Helper()
	o, err := c.DescribeInternetGateways(context.Background(), &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{id}})
	step(t, "DescribeInternetGateways InternetGatewayId.1", err)
	return onlyOne(t, "DescribeInternetGateways InternetGatewayId.1", id, o.InternetGateways, func(i types.InternetGateway) *string { return i.InternetGatewayId })
}

func tfCreateRouteTable(t *testing.T, c *ec2.Client, vpc, igw, account string) string {
	t.Helper()
	ctx := context.Background()
	out, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpc, ClientToken: aws.String("terraform-rt-1"),
		TagSpecifications: tagSpec(types.ResourceTypeRouteTable, "Name", "tf")})
	step(t, "CreateRouteTable", err)
	rt := aws.ToString(out.RouteTable.RouteTableId)
	tfReadRouteTable(t, c, rt)
	tfReadRouteTable(t, c, rt)
	_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rt, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &igw})
	step(t, "CreateRoute", err)
	r := tfReadRouteTable(t, c, rt)
	var others []types.Route
	for _, x := range r.Routes {
		if aws.ToString(x.GatewayId) != "local" {
			others = append(others, x)
		}
	}
	if len(others) != 1 || aws.ToString(others[0].DestinationCidrBlock) != "0.0.0.0/0" || aws.ToString(others[0].GatewayId) != igw ||
		others[0].State != types.RouteStateActive {
		t.Errorf("routeSet (local ignored): %+v, want 0.0.0.0/0 -> %s active", others, igw)
	}
	if aws.ToString(r.OwnerId) != account || aws.ToString(r.VpcId) != vpc || len(r.PropagatingVgws) != 0 {
		t.Errorf("DescribeRouteTables: %+v", r)
	}
	wantTags(t, "route table", r.Tags, map[string]string{"Name": "tf"})
	sameRead(t, "aws_route_table Read", r, tfReadRouteTable(t, c, rt))
	return rt
}

func tfReadRouteTable(t *testing.T, c *ec2.Client, id string) types.RouteTable {
	t.Helper()
	o, err := c.DescribeRouteTables(context.Background(), &ec2.DescribeRouteTablesInput{RouteTableIds: []string{id}})
	step(t, "DescribeRouteTables RouteTableId.1", err)
	return onlyOne(t, "DescribeRouteTables RouteTableId.1", id, o.RouteTables, func(r types.RouteTable) *string { return r.RouteTableId })
}
