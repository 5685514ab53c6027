package ec2_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/dnsname"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// DescribeInstances names addresses as dnsname does (the metadata service
// and the VPC resolver use the same), and shows no public name while the
// VPC's enableDnsHostnames is off (a new VPC's default), as AWS.
func TestInstanceNamesFollowDNSHostnames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newEIPFixture(t, b)
		c := f.a.EC2
		vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.40.0.0/16")})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.40.1.0/24"),
			AvailabilityZone: aws.String("kumo-1a")})
		if err != nil {
			t.Fatal(err)
		}
		attachGateway(t, c, *vpc.Vpc.VpcId)
		id := f.launch(t, c, *sub.Subnet.SubnetId)
		e := allocate(t, c)
		associate(t, c, &ec2.AssociateAddressInput{AllocationId: e.AllocationId, InstanceId: &id})
		inst := instanceOf(t, c, id)
		ip := aws.ToString(inst.PrivateIpAddress)
		if got, want := aws.ToString(inst.PrivateDnsName), dnsname.Private("kumo-1", ip); got != want {
			t.Errorf("PrivateDnsName %q, want %q", got, want)
		}
		ni := inst.NetworkInterfaces[0]
		if aws.ToString(inst.PublicDnsName) != "" || aws.ToString(ni.Association.PublicDnsName) != "" ||
			aws.ToString(ni.PrivateIpAddresses[0].Association.PublicDnsName) != "" {
			t.Errorf("public names with enableDnsHostnames off: %q %q", aws.ToString(inst.PublicDnsName), aws.ToString(ni.Association.PublicDnsName))
		}
		enis, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{*ni.NetworkInterfaceId}})
		if err != nil {
			t.Fatal(err)
		}
		if eni := enis.NetworkInterfaces[0]; aws.ToString(eni.PrivateDnsName) != dnsname.Private("kumo-1", ip) ||
			eni.Association == nil || aws.ToString(eni.Association.PublicDnsName) != "" {
			t.Errorf("DescribeNetworkInterfaces with enableDnsHostnames off: %+v", eni)
		}
		if _, err := c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: vpc.Vpc.VpcId,
			EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
			t.Fatal(err)
		}
		inst = instanceOf(t, c, id)
		want := dnsname.Public("kumo-1", aws.ToString(e.PublicIp))
		if got := aws.ToString(inst.PublicDnsName); got != want || aws.ToString(inst.NetworkInterfaces[0].Association.PublicDnsName) != want {
			t.Errorf("PublicDnsName %q, want %q", got, want)
		}
		enis, err = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{*ni.NetworkInterfaceId}})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(enis.NetworkInterfaces[0].Association.PublicDnsName); got != want {
			t.Errorf("DescribeNetworkInterfaces PublicDnsName %q, want %q", got, want)
		}
	})
}
