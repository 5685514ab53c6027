package ec2_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func mustVPC(t *testing.T, c *ec2.Client, cidr string) string {
	t.Helper()
	out, err := c.CreateVpc(context.Background(), &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Vpc.VpcId)
}

func mustIGW(t *testing.T, c *ec2.Client, tags ...types.Tag) string {
	t.Helper()
	in := &ec2.CreateInternetGatewayInput{}
	if len(tags) > 0 {
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInternetGateway, Tags: tags}}
	}
	out, err := c.CreateInternetGateway(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.InternetGateway.InternetGatewayId)
}

func describeIGWs(t *testing.T, c *ec2.Client, in *ec2.DescribeInternetGatewaysInput) []types.InternetGateway {
	t.Helper()
	out, err := c.DescribeInternetGateways(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out.InternetGateways
}

func igwIDs(gws []types.InternetGateway) []string {
	var out []string
	for _, g := range gws {
		out = append(out, aws.ToString(g.InternetGatewayId))
	}
	return out
}

func defaultVPCID(t *testing.T, c *ec2.Client) string {
	t.Helper()
	out, err := c.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{Filters: []types.Filter{flt("is-default", "true")}})
	if err != nil || len(out.Vpcs) != 1 {
		t.Fatalf("default vpc: %+v %v", out, err)
	}
	return aws.ToString(out.Vpcs[0].VpcId)
}

func TestInternetGateways(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.Start(t, b)
		a, other := srv.NewAccount(t, "a"), srv.NewAccount(t, "b")
		c := a.EC2

		// The default VPC comes with an attached gateway.
		def := defaultVPCID(t, c)
		gws := describeIGWs(t, c, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{flt("attachment.vpc-id", def)}})
		if len(gws) != 1 || len(gws[0].Attachments) != 1 || gws[0].Attachments[0].State != types.AttachmentStatus("available") || aws.ToString(gws[0].OwnerId) != a.ID {
			t.Fatalf("default VPC's gateway: %+v", gws)
		}

		vpc, vpc2 := mustVPC(t, c, "10.1.0.0/16"), mustVPC(t, c, "10.2.0.0/16")
		igw := mustIGW(t, c, types.Tag{Key: aws.String("Name"), Value: aws.String("edge")})
		igw2 := mustIGW(t, c)
		got := describeIGWs(t, c, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{igw}})
		if len(got) != 1 || len(got[0].Attachments) != 0 || len(got[0].Tags) != 1 || aws.ToString(got[0].Tags[0].Value) != "edge" {
			t.Fatalf("new gateway: %+v", got)
		}

		_, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc})
		if err != nil {
			t.Fatal(err)
		}
		for name, tc := range map[string]struct{ igw, vpc, code string }{
			"gateway attached elsewhere": {igw, vpc2, "Resource.AlreadyAssociated"},
			"gateway attached here":      {igw, vpc, "Resource.AlreadyAssociated"},
			"VPC has a gateway":          {igw2, vpc, "Resource.AlreadyAssociated"},
			"no such VPC":                {igw2, "vpc-00000000000000000", "InvalidVpcID.NotFound"},
			"no such gateway":            {"igw-00000000000000000", vpc2, "InvalidInternetGatewayID.NotFound"},
			"malformed gateway":          {"igw-zz", vpc2, "InvalidInternetGatewayId.Malformed"},
		} {
			_, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(tc.igw), VpcId: aws.String(tc.vpc)})
			if err == nil {
				t.Fatalf("%s: attached", name)
			}
			wantClientError(t, err, tc.code)
		}

		_, err = c.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: &igw})
		wantClientError(t, err, "DependencyViolation")
		_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpc})
		wantClientError(t, err, "DependencyViolation")

		// Filters and pages.
		if got := igwIDs(describeIGWs(t, c, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{flt("attachment.state", "available")}})); len(got) != 2 {
			t.Errorf("attached gateways: %v", got)
		}
		if got := igwIDs(describeIGWs(t, c, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{flt("tag:Name", "edge")}})); len(got) != 1 || got[0] != igw {
			t.Errorf("tag:Name=edge: %v", got)
		}
		if got := igwIDs(describeIGWs(t, c, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{flt("tag-key", "Name"), flt("owner-id", a.ID), flt("internet-gateway-id", igw, igw2)}})); len(got) != 1 || got[0] != igw {
			t.Errorf("tag-key filter: %v", got)
		}
		for range 4 {
			mustIGW(t, c)
		}
		page, err := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{MaxResults: aws.Int32(5)})
		if err != nil || len(page.InternetGateways) != 5 || page.NextToken == nil {
			t.Fatalf("first page: %+v %v", page, err)
		}
		rest, err := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{MaxResults: aws.Int32(5), NextToken: page.NextToken})
		if err != nil || len(rest.InternetGateways) != 2 || rest.NextToken != nil {
			t.Fatalf("second page: %+v %v", rest, err)
		}

		// Tags through the generic actions.
		_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{igw2}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		if err != nil {
			t.Fatal(err)
		}
		tags, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{flt("resource-id", igw2)}})
		if err != nil || len(tags.Tags) != 1 || tags.Tags[0].ResourceType != types.ResourceTypeInternetGateway {
			t.Fatalf("tags of %s: %+v %v", igw2, tags, err)
		}
		if _, err = c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{igw2}}); err != nil {
			t.Fatal(err)
		}

		// Another account can neither see nor touch the gateway.
		oc := other.EC2
		_, err = oc.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{igw}})
		wantClientError(t, err, "InvalidInternetGatewayID.NotFound")
		_, err = oc.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc})
		wantClientError(t, err, "InvalidInternetGatewayID.NotFound")
		_, err = oc.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: &igw2})
		wantClientError(t, err, "InvalidInternetGatewayID.NotFound")
		_, err = oc.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{igw}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		wantClientError(t, err, "InvalidInternetGatewayID.NotFound")
		oigw := mustIGW(t, oc)
		_, err = oc.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &oigw, VpcId: &vpc2})
		wantClientError(t, err, "InvalidVpcID.NotFound")
		if got := describeIGWs(t, oc, &ec2.DescribeInternetGatewaysInput{}); len(got) != 2 { // its default VPC's and its own
			t.Errorf("other account sees %v", igwIDs(got))
		}

		// Detach, then delete.
		_, err = c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc2})
		wantClientError(t, err, "Gateway.NotAttached")
		_, err = c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc})
		wantClientError(t, err, "Gateway.NotAttached")
		if _, err = c.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: &igw}); err != nil {
			t.Fatal(err)
		}
		_, err = c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{igw}})
		wantClientError(t, err, "InvalidInternetGatewayID.NotFound")
		_, err = c.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: &igw})
		wantClientError(t, err, "InvalidInternetGatewayID.NotFound")
		if _, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpc}); err != nil {
			t.Fatalf("delete VPC after detaching its gateway: %v", err)
		}
	})
}

// TestGatewayWithInstances routes to an instance and checks that a gateway
// cannot be detached while an elastic IP is mapped in its VPC.
func TestGatewayWithInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newEIPFixture(t, b)
		c := f.a.EC2
		def := defaultVPCID(t, c)
		inst := f.launch(t, c, "")
		main := aws.ToString(describeRTs(t, c, flt("vpc-id", def))[0].RouteTableId)
		if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &main, DestinationCidrBlock: aws.String("10.99.0.0/16"), InstanceId: &inst}); err != nil {
			t.Fatal(err)
		}
		r, ok := routeTo(oneRT(t, c, main), "10.99.0.0/16")
		if !ok || aws.ToString(r.InstanceId) != inst || !strings.HasPrefix(aws.ToString(r.NetworkInterfaceId), "eni-") || aws.ToString(r.InstanceOwnerId) != f.a.ID || r.State != types.RouteStateActive {
			t.Fatalf("route to an instance: %+v", r)
		}
		if got := describeRTs(t, c, flt("route.instance-id", inst)); len(got) != 1 {
			t.Errorf("route.instance-id: %+v", got)
		}
		vpc := mustVPC(t, c, "10.9.0.0/16")
		other := aws.ToString(describeRTs(t, c, flt("vpc-id", vpc))[0].RouteTableId)
		_, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &other, DestinationCidrBlock: aws.String("10.99.0.0/16"), InstanceId: &inst})
		wantClientError(t, err, "InvalidParameterValue")
		_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &other, DestinationCidrBlock: aws.String("10.99.0.0/16"), NetworkInterfaceId: r.NetworkInterfaceId})
		wantClientError(t, err, "InvalidParameterValue")

		igw := igwIDs(describeIGWs(t, c, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{flt("attachment.vpc-id", def)}}))[0]
		eip := allocate(t, c)
		assoc := associate(t, c, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: &inst})
		_, err = c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &def})
		wantClientError(t, err, "DependencyViolation")
		if _, err := c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: &assoc}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &def}); err != nil {
			t.Fatal(err)
		}
		if r, _ := routeTo(oneRT(t, c, main), "0.0.0.0/0"); r.State != types.RouteStateBlackhole {
			t.Errorf("default route after detaching: %+v", r)
		}
	})
}
