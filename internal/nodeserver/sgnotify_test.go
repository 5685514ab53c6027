package nodeserver_test

import (
	"slices"
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

// hasIngress reports whether a Desired carries an ingress rule of group
// for tcp/port from cidr.
func hasIngress(d *nodeapi.Desired, group string, port int, cidr string) bool {
	for _, v := range d.VPCs {
		for _, g := range v.SecurityGroups {
			if g.ID != group {
				continue
			}
			for _, r := range g.Ingress {
				if r.Protocol == "tcp" && r.FromPort == port && len(r.CIDRs) == 1 && r.CIDRs[0] == cidr {
					return true
				}
			}
		}
	}
	return false
}

// TestAuthorizeReachesTheNodeWithinASecond: a rule added through the EC2
// API is in a connected node's desired state within a second (the periodic
// resend is 5 s away), and so are a new route and a detached gateway.
func TestAuthorizeReachesTheNodeWithinASecond(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv := controllertest.Start(t, b)
		acct := srv.NewAccount(t, "team-sg")
		ctx := t.Context()
		subnets, err := acct.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
		if err != nil || len(subnets.Subnets) == 0 {
			t.Fatalf("default subnets: %v", err)
		}
		sn := subnets.Subnets[0]
		sg, err := acct.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: sn.VpcId})
		if err != nil {
			t.Fatal(err)
		}
		s := nodeservertest.JoinWithGuest(t, srv, acct.ID, sn, aws.ToString(sg.GroupId))
		d := recvDesired(t, s, 5*time.Second)
		if len(d.VPCs) != 1 || d.VPCs[0].VPCID != aws.ToString(sn.VpcId) || d.VPCs[0].VNI == 0 ||
			len(d.VPCs[0].SecurityGroups) != 1 || d.VPCs[0].SecurityGroups[0].ID != aws.ToString(sg.GroupId) {
			t.Fatalf("first desired VPCs: %s", jsonOf(d.VPCs))
		}
		if hasIngress(d, aws.ToString(sg.GroupId), 22, "203.0.113.0/24") {
			t.Fatal("rule present before it was authorized")
		}
		_, err = acct.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
			IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
				IpRanges: []types.IpRange{{CidrIp: aws.String("203.0.113.0/24")}}}}})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Second)
		for {
			d := recvDesired(t, s, time.Until(deadline))
			if hasIngress(d, aws.ToString(sg.GroupId), 22, "203.0.113.0/24") {
				break
			}
		}
		_, err = acct.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: sg.GroupId,
			IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
				IpRanges: []types.IpRange{{CidrIp: aws.String("203.0.113.0/24")}}}}})
		if err != nil {
			t.Fatal(err)
		}
		deadline = time.Now().Add(time.Second)
		for {
			d := recvDesired(t, s, time.Until(deadline))
			if !hasIngress(d, aws.ToString(sg.GroupId), 22, "203.0.113.0/24") {
				break
			}
		}

		// Routes and gateways reach the node as promptly.
		tables, err := acct.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{aws.ToString(sn.VpcId)}}, {Name: aws.String("association.main"), Values: []string{"true"}}}})
		if err != nil || len(tables.RouteTables) != 1 {
			t.Fatalf("main route table: %v", err)
		}
		if _, err := acct.EC2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: tables.RouteTables[0].RouteTableId,
			DestinationCidrBlock: aws.String("198.51.100.0/24"), InstanceId: aws.String("i-0000000000000a001")}); err != nil {
			t.Fatal(err)
		}
		deadline = time.Now().Add(time.Second)
		for {
			d := recvDesired(t, s, time.Until(deadline))
			if len(d.Instances) == 1 && slices.Contains(d.Instances[0].Network.Routes, nodeapi.Route{Destination: "198.51.100.0/24", NextHop: "172.31.0.10"}) {
				break
			}
		}
		igws, err := acct.EC2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{
			{Name: aws.String("attachment.vpc-id"), Values: []string{aws.ToString(sn.VpcId)}}}})
		if err != nil || len(igws.InternetGateways) != 1 {
			t.Fatalf("default VPC's internet gateway: %v", err)
		}
		if _, err := acct.EC2.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: igws.InternetGateways[0].InternetGatewayId,
			VpcId: sn.VpcId}); err != nil {
			t.Fatal(err)
		}
		deadline = time.Now().Add(time.Second)
		for {
			d := recvDesired(t, s, time.Until(deadline))
			if len(d.Instances) == 1 && len(d.Instances[0].Network.InternetRoutes) == 0 {
				break
			}
		}
	})
}
