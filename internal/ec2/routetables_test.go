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

func describeRTs(t *testing.T, c *ec2.Client, filters ...types.Filter) []types.RouteTable {
	t.Helper()
	out, err := c.DescribeRouteTables(context.Background(), &ec2.DescribeRouteTablesInput{Filters: filters})
	if err != nil {
		t.Fatal(err)
	}
	return out.RouteTables
}

func oneRT(t *testing.T, c *ec2.Client, id string) types.RouteTable {
	t.Helper()
	out, err := c.DescribeRouteTables(context.Background(), &ec2.DescribeRouteTablesInput{RouteTableIds: []string{id}})
	if err != nil || len(out.RouteTables) != 1 {
		t.Fatalf("describe %s: %+v %v", id, out, err)
	}
	return out.RouteTables[0]
}

func routeTo(rt types.RouteTable, dest string) (types.Route, bool) {
	for _, r := range rt.Routes {
		if aws.ToString(r.DestinationCidrBlock) == dest {
			return r, true
		}
	}
	return types.Route{}, false
}

func mustSubnet(t *testing.T, c *ec2.Client, vpc, cidr string) string {
	t.Helper()
	out, err := c.CreateSubnet(context.Background(), &ec2.CreateSubnetInput{VpcId: &vpc, CidrBlock: &cidr})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Subnet.SubnetId)
}

func TestMainRouteTables(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv := controllertest.Start(t, b)
		c := srv.NewAccount(t, "a").EC2

		def := defaultVPCID(t, c)
		mains := describeRTs(t, c, flt("vpc-id", def), flt("association.main", "true"))
		if len(mains) != 1 || len(mains[0].Associations) != 1 || !aws.ToBool(mains[0].Associations[0].Main) {
			t.Fatalf("default VPC's main table: %+v", mains)
		}
		local, ok := routeTo(mains[0], "172.31.0.0/16")
		if !ok || aws.ToString(local.GatewayId) != "local" || local.State != types.RouteStateActive || local.Origin != types.RouteOriginCreateRouteTable {
			t.Errorf("default VPC's local route: %+v", local)
		}
		igw := describeIGWs(t, c, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{flt("attachment.vpc-id", def)}})
		out, ok := routeTo(mains[0], "0.0.0.0/0")
		if !ok || len(igw) != 1 || aws.ToString(out.GatewayId) != aws.ToString(igw[0].InternetGatewayId) || out.State != types.RouteStateActive {
			t.Errorf("default VPC's default route: %+v (gateways %v)", out, igwIDs(igw))
		}

		vpc := mustVPC(t, c, "10.5.0.0/16")
		tables := describeRTs(t, c, flt("vpc-id", vpc))
		if len(tables) != 1 || len(tables[0].Routes) != 1 || aws.ToString(tables[0].Routes[0].DestinationCidrBlock) != "10.5.0.0/16" ||
			len(tables[0].Associations) != 1 || !aws.ToBool(tables[0].Associations[0].Main) {
			t.Fatalf("new VPC's tables: %+v", tables)
		}
		main := aws.ToString(tables[0].RouteTableId)
		_, err := c.DeleteRouteTable(context.Background(), &ec2.DeleteRouteTableInput{RouteTableId: &main})
		wantClientError(t, err, "DependencyViolation")
		if _, err := c.DeleteVpc(context.Background(), &ec2.DeleteVpcInput{VpcId: &vpc}); err != nil {
			t.Fatalf("delete a VPC with only its main table: %v", err)
		}
		_, err = c.DescribeRouteTables(context.Background(), &ec2.DescribeRouteTablesInput{RouteTableIds: []string{main}})
		wantClientError(t, err, "InvalidRouteTableID.NotFound")
	})
}

func TestRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.Start(t, b)
		c := srv.NewAccount(t, "a").EC2
		vpc, vpc2 := mustVPC(t, c, "10.5.0.0/16"), mustVPC(t, c, "10.6.0.0/16")
		igw := mustIGW(t, c)
		created, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpc,
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeRouteTable, Tags: []types.Tag{{Key: aws.String("tier"), Value: aws.String("public")}}}}})
		if err != nil {
			t.Fatal(err)
		}
		rt := aws.ToString(created.RouteTable.RouteTableId)
		if len(created.RouteTable.Routes) != 1 || len(created.RouteTable.Associations) != 0 || len(created.RouteTable.Tags) != 1 {
			t.Fatalf("created table: %+v", created.RouteTable)
		}
		_, err = c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String("vpc-00000000000000000")})
		wantClientError(t, err, "InvalidVpcID.NotFound")

		route := func(dest string, edit func(*ec2.CreateRouteInput)) error {
			in := &ec2.CreateRouteInput{RouteTableId: &rt, DestinationCidrBlock: aws.String(dest)}
			edit(in)
			_, err := c.CreateRoute(ctx, in)
			return err
		}
		gw := func(id string) func(*ec2.CreateRouteInput) {
			return func(in *ec2.CreateRouteInput) { in.GatewayId = aws.String(id) }
		}
		wantClientError(t, route("0.0.0.0/0", gw(igw)), "InvalidParameterValue") // not attached to this VPC
		if _, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc}); err != nil {
			t.Fatal(err)
		}
		if err := route("0.0.0.0/0", gw(igw)); err != nil {
			t.Fatal(err)
		}
		for name, tc := range map[string]struct {
			dest string
			edit func(*ec2.CreateRouteInput)
			code string
		}{
			"same destination":  {"0.0.0.0/0", gw(igw), "RouteAlreadyExists"},
			"the local range":   {"10.5.0.0/16", gw(igw), "InvalidParameterValue"},
			"no such gateway":   {"192.168.0.0/16", gw("igw-00000000000000000"), "InvalidGatewayID.NotFound"},
			"local target":      {"192.168.0.0/16", gw("local"), "InvalidParameterValue"},
			"NAT gateway":       {"192.168.0.0/16", func(in *ec2.CreateRouteInput) { in.NatGatewayId = aws.String("nat-00000000000000000") }, "InvalidParameterValue"},
			"peering":           {"192.168.0.0/16", func(in *ec2.CreateRouteInput) { in.VpcPeeringConnectionId = aws.String("pcx-1") }, "InvalidParameterValue"},
			"no target":         {"192.168.0.0/16", func(*ec2.CreateRouteInput) {}, "MissingParameter"},
			"two targets":       {"192.168.0.0/16", func(in *ec2.CreateRouteInput) { in.GatewayId, in.InstanceId = aws.String(igw), aws.String("i-1") }, "InvalidParameterCombination"},
			"no such instance":  {"192.168.0.0/16", func(in *ec2.CreateRouteInput) { in.InstanceId = aws.String("i-00000000000000000") }, "InvalidInstanceID.NotFound"},
			"no such interface": {"192.168.0.0/16", func(in *ec2.CreateRouteInput) { in.NetworkInterfaceId = aws.String("eni-00000000000000000") }, "InvalidNetworkInterfaceID.NotFound"},
			"bad destination":   {"192.168.0.1/16", gw(igw), "InvalidParameterValue"},
		} {
			err := route(tc.dest, tc.edit)
			if err == nil {
				t.Fatalf("%s: created", name)
			}
			wantClientError(t, err, tc.code)
		}
		_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String("rtb-00000000000000000"), DestinationCidrBlock: aws.String("1.0.0.0/8"), GatewayId: &igw})
		wantClientError(t, err, "InvalidRouteTableID.NotFound")

		r, _ := routeTo(oneRT(t, c, rt), "0.0.0.0/0")
		if aws.ToString(r.GatewayId) != igw || r.State != types.RouteStateActive || r.Origin != types.RouteOriginCreateRoute {
			t.Fatalf("route to the gateway: %+v", r)
		}

		// Replace and delete; the local route stays.
		_, err = c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: &rt, DestinationCidrBlock: aws.String("8.8.8.0/24"), GatewayId: &igw})
		wantClientError(t, err, "InvalidRoute.NotFound")
		_, err = c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: &rt, DestinationCidrBlock: aws.String("10.5.0.0/16"), GatewayId: &igw})
		wantClientError(t, err, "InvalidParameterValue")
		_, err = c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: &rt, DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String("nat-1")})
		wantClientError(t, err, "InvalidParameterValue")
		if _, err = c.ReplaceRoute(ctx, &ec2.ReplaceRouteInput{RouteTableId: &rt, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &igw}); err != nil {
			t.Fatal(err)
		}
		_, err = c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: &rt, DestinationCidrBlock: aws.String("10.5.0.0/16")})
		wantClientError(t, err, "InvalidParameterValue")
		_, err = c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: &rt, DestinationCidrBlock: aws.String("8.8.8.0/24")})
		wantClientError(t, err, "InvalidRoute.NotFound")
		if err := route("8.8.8.0/24", gw(igw)); err != nil {
			t.Fatal(err)
		}
		if _, err = c.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: &rt, DestinationCidrBlock: aws.String("8.8.8.0/24")}); err != nil {
			t.Fatal(err)
		}

		// Filters.
		if got := describeRTs(t, c, flt("route.gateway-id", igw)); len(got) != 1 || aws.ToString(got[0].RouteTableId) != rt {
			t.Errorf("route.gateway-id: %+v", got)
		}
		if got := describeRTs(t, c, flt("route.destination-cidr-block", "0.0.0.0/0"), flt("vpc-id", vpc)); len(got) != 1 {
			t.Errorf("route.destination-cidr-block: %+v", got)
		}
		if got := describeRTs(t, c, flt("tag:tier", "public"), flt("route-table-id", rt)); len(got) != 1 {
			t.Errorf("tag:tier: %+v", got)
		}

		// A detached gateway leaves a blackhole.
		if _, err := c.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc}); err != nil {
			t.Fatal(err)
		}
		if r, _ := routeTo(oneRT(t, c, rt), "0.0.0.0/0"); r.State != types.RouteStateBlackhole {
			t.Errorf("route to a detached gateway: %+v", r)
		}
		if got := describeRTs(t, c, flt("route.state", "blackhole")); len(got) != 1 || aws.ToString(got[0].RouteTableId) != rt {
			t.Errorf("route.state=blackhole: %+v", got)
		}
		// Attached to another VPC it is still a blackhole here, and cannot be a new target.
		if _, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc2}); err != nil {
			t.Fatal(err)
		}
		if r, _ := routeTo(oneRT(t, c, rt), "0.0.0.0/0"); r.State != types.RouteStateBlackhole {
			t.Errorf("route to a gateway of another VPC: %+v", r)
		}
		wantClientError(t, route("1.0.0.0/8", gw(igw)), "InvalidParameterValue")

		// DeleteVpc refuses while a non-main table exists.
		_, err = c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpc})
		wantClientError(t, err, "DependencyViolation")
		if _, err := c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: &rt}); err != nil {
			t.Fatal(err)
		}
		_, err = c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: &rt})
		wantClientError(t, err, "InvalidRouteTableID.NotFound")
		_, err = c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String("rtb-xyz")})
		wantClientError(t, err, "InvalidRouteTableId.Malformed")
		if _, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: &vpc}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRouteTableAssociations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.Start(t, b)
		a, other := srv.NewAccount(t, "a"), srv.NewAccount(t, "b")
		c := a.EC2
		vpc, vpc2 := mustVPC(t, c, "10.5.0.0/16"), mustVPC(t, c, "10.6.0.0/16")
		sub, sub2, far := mustSubnet(t, c, vpc, "10.5.1.0/24"), mustSubnet(t, c, vpc, "10.5.2.0/24"), mustSubnet(t, c, vpc2, "10.6.1.0/24")
		main := aws.ToString(describeRTs(t, c, flt("vpc-id", vpc))[0].RouteTableId)
		mk := func() string {
			out, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpc})
			if err != nil {
				t.Fatal(err)
			}
			return aws.ToString(out.RouteTable.RouteTableId)
		}
		rt, rt2 := mk(), mk()

		assoc, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: &rt, SubnetId: &sub})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(assoc.AssociationId)
		if assoc.AssociationState == nil || assoc.AssociationState.State != types.RouteTableAssociationStateCodeAssociated || len(id) < 10 || id[:9] != "rtbassoc-" {
			t.Fatalf("association: %+v", assoc)
		}
		for name, tc := range map[string]struct{ rt, subnet, code string }{
			"subnet already associated": {rt2, sub, "Resource.AlreadyAssociated"},
			"same table again":          {rt, sub, "Resource.AlreadyAssociated"},
			"subnet of another VPC":     {rt, far, "InvalidParameterValue"},
			"no such subnet":            {rt, "subnet-00000000000000000", "InvalidSubnetID.NotFound"},
			"no such table":             {"rtb-00000000000000000", sub2, "InvalidRouteTableID.NotFound"},
		} {
			_, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(tc.rt), SubnetId: aws.String(tc.subnet)})
			if err == nil {
				t.Fatalf("%s: associated", name)
			}
			wantClientError(t, err, tc.code)
		}
		got := oneRT(t, c, rt)
		if len(got.Associations) != 1 || aws.ToString(got.Associations[0].SubnetId) != sub || aws.ToBool(got.Associations[0].Main) {
			t.Fatalf("associations of %s: %+v", rt, got.Associations)
		}
		if got := describeRTs(t, c, flt("association.subnet-id", sub)); len(got) != 1 || aws.ToString(got[0].RouteTableId) != rt {
			t.Errorf("association.subnet-id: %+v", got)
		}
		if got := describeRTs(t, c, flt("association.route-table-association-id", id)); len(got) != 1 || aws.ToString(got[0].RouteTableId) != rt {
			t.Errorf("association.route-table-association-id: %+v", got)
		}
		_, err = c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: &rt})
		wantClientError(t, err, "DependencyViolation")

		// Another account can name neither the table nor the association.
		oc := other.EC2
		_, err = oc.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{rt}})
		wantClientError(t, err, "InvalidRouteTableID.NotFound")
		_, err = oc.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: &id})
		wantClientError(t, err, "InvalidAssociationID.NotFound")
		_, err = oc.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: &rt2})
		wantClientError(t, err, "InvalidRouteTableID.NotFound")
		_, err = oc.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: &rt2, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String("igw-00000000000000000")})
		wantClientError(t, err, "InvalidRouteTableID.NotFound")
		_, err = oc.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{rt}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		wantClientError(t, err, "InvalidRouteTableID.NotFound")
		if got := describeRTs(t, oc, flt("route-table-id", rt, rt2, main)); len(got) != 0 {
			t.Errorf("other account sees %+v", got)
		}

		// Move the subnet to another table: a new association id.
		rep, err := c.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: &id, RouteTableId: &rt2})
		if err != nil {
			t.Fatal(err)
		}
		moved := aws.ToString(rep.NewAssociationId)
		if moved == id || len(oneRT(t, c, rt).Associations) != 0 || len(oneRT(t, c, rt2).Associations) != 1 {
			t.Fatalf("after replacing %s: new id %s", id, moved)
		}
		_, err = c.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: &id})
		wantClientError(t, err, "InvalidAssociationID.NotFound")

		// Move the main association: rt becomes main, the old main table a plain one.
		mainAssoc := aws.ToString(oneRT(t, c, main).Associations[0].RouteTableAssociationId)
		_, err = c.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: &mainAssoc})
		wantClientError(t, err, "InvalidParameterValue")
		farTable := aws.ToString(describeRTs(t, c, flt("vpc-id", vpc2))[0].RouteTableId)
		_, err = c.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: &mainAssoc, RouteTableId: &farTable})
		wantClientError(t, err, "InvalidParameterValue")
		rep, err = c.ReplaceRouteTableAssociation(ctx, &ec2.ReplaceRouteTableAssociationInput{AssociationId: &mainAssoc, RouteTableId: &rt})
		if err != nil {
			t.Fatal(err)
		}
		mains := describeRTs(t, c, flt("vpc-id", vpc), flt("association.main", "true"))
		if len(mains) != 1 || aws.ToString(mains[0].RouteTableId) != rt || aws.ToString(mains[0].Associations[0].RouteTableAssociationId) != aws.ToString(rep.NewAssociationId) {
			t.Fatalf("main tables after replacing: %+v", mains)
		}
		if _, err := c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: &main}); err != nil {
			t.Fatalf("delete the former main table: %v", err)
		}

		// Deleting a subnet drops its association; then the table can go.
		if _, err := c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: &sub}); err != nil {
			t.Fatal(err)
		}
		if got := oneRT(t, c, rt2); len(got.Associations) != 0 {
			t.Fatalf("associations after deleting the subnet: %+v", got.Associations)
		}
		assoc, err = c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: &rt2, SubnetId: &sub2})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: assoc.AssociationId}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: &rt2}); err != nil {
			t.Fatal(err)
		}
	})
}
