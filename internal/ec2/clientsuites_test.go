package ec2_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// subnetFree is a subnet's AvailableIpAddressCount as DescribeSubnets says,
// checked against the available-ip-address-count filter.
func subnetFree(t *testing.T, c *ec2.Client, id string) int32 {
	t.Helper()
	out, err := c.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})
	if err != nil || len(out.Subnets) != 1 {
		t.Fatalf("describe %s: %+v %v", id, out, err)
	}
	n := aws.ToInt32(out.Subnets[0].AvailableIpAddressCount)
	by, err := c.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{Filters: []types.Filter{
		flt("subnet-id", id), flt("available-ip-address-count", strconv.Itoa(int(n)))}})
	if err != nil || len(by.Subnets) != 1 {
		t.Errorf("available-ip-address-count=%d does not match %s: %+v %v", n, id, by, err)
	}
	return n
}

// TestSubnetAvailableAddressesGoDown: a /28 has 11 usable addresses and
// each address an instance, an interface or a secondary address takes
// counts, as in AWS (it stayed at 11).
func TestSubnetAvailableAddressesGoDown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 32, 65536)
		a := srv.NewAccount(t, "a")
		c := a.EC2
		vpc := mustVPC(t, c, "10.50.0.0/16")
		out, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpc, CidrBlock: aws.String("10.50.1.0/28"), AvailabilityZone: aws.String("kumo-1a")})
		if err != nil {
			t.Fatal(err)
		}
		sub := *out.Subnet.SubnetId
		if n := aws.ToInt32(out.Subnet.AvailableIpAddressCount); n != 11 {
			t.Fatalf("new /28: %d available, want 11", n)
		}
		inst := run(t, c, &ec2.RunInstancesInput{ImageId: &img, SubnetId: &sub}).Instances[0]
		if n := subnetFree(t, c, sub); n != 10 {
			t.Errorf("after an instance: %d, want 10", n)
		}
		if _, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &sub, SecondaryPrivateIpAddressCount: aws.Int32(2)}); err != nil {
			t.Fatal(err)
		}
		if n := subnetFree(t, c, sub); n != 7 {
			t.Errorf("after an interface with two secondary addresses: %d, want 7", n)
		}
		eni := *inst.NetworkInterfaces[0].NetworkInterfaceId
		if _, err := c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: &eni, SecondaryPrivateIpAddressCount: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
		if n := subnetFree(t, c, sub); n != 6 {
			t.Errorf("after a secondary address on the instance: %d, want 6", n)
		}
		// Terminating frees the instance's interface and its addresses.
		if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{*inst.InstanceId}}); err != nil {
			t.Fatal(err)
		}
		observe(t, srv, a.ID, *inst.InstanceId, "terminated", "deleted")
		if n := subnetFree(t, c, sub); n != 8 {
			t.Errorf("after termination: %d, want 8", n)
		}
	})
}

// TestAddressSelectionAndReleaseAsAWS: DescribeAddresses with both
// PublicIps and AllocationIds answers the union (it was the intersection),
// ReleaseAddress with both is InvalidParameterCombination, and
// DisassociateAddress of an unassociated address by PublicIp is
// InvalidParameterValue.
func TestAddressSelectionAndReleaseAsAWS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		c := srv.NewAccount(t, "a").EC2
		e1, e2, e3 := allocate(t, c), allocate(t, c), allocate(t, c)
		got := describeAddresses(t, c, &ec2.DescribeAddressesInput{AllocationIds: []string{*e1.AllocationId}, PublicIps: []string{*e2.PublicIp}})
		if len(got) != 2 || *got[0].AllocationId == *got[1].AllocationId {
			t.Fatalf("union of one id and one address: %+v", got)
		}
		for _, a := range got {
			if *a.AllocationId == *e3.AllocationId {
				t.Fatalf("an address named by neither: %+v", a)
			}
		}
		both := describeAddresses(t, c, &ec2.DescribeAddressesInput{AllocationIds: []string{*e1.AllocationId}, PublicIps: []string{*e1.PublicIp}})
		if len(both) != 1 {
			t.Fatalf("one address named both ways: %+v", both)
		}
		_, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{*e1.AllocationId}, PublicIps: []string{"192.0.2.200"}})
		wantClientError(t, err, "InvalidAddress.NotFound")

		_, err = c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: e1.AllocationId, PublicIp: e1.PublicIp})
		wantClientError(t, err, "InvalidParameterCombination")
		if len(describeAddresses(t, c, &ec2.DescribeAddressesInput{AllocationIds: []string{*e1.AllocationId}})) != 1 {
			t.Fatal("a refused release released the address")
		}
		_, err = c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{PublicIp: e2.PublicIp})
		wantClientError(t, err, "InvalidParameterValue")
	})
}

// TestErrorCodesAsAWS: the error codes AWS gives where Kumo gave others.
func TestErrorCodesAsAWS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv) // public, owned by Kumo's own account
		readyNode(t, srv, "h1", "kumo-1a", 32, 65536)
		c := srv.NewAccount(t, "a").EC2

		// DescribeImageAttribute on another account's public image.
		_, err := c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: &img, Attribute: types.ImageAttributeNameBootMode})
		wantClientError(t, err, "InvalidRequest")
		_, err = c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: &img, Attribute: types.ImageAttributeNameLaunchPermission})
		wantClientError(t, err, "AuthFailure")
		if out, err := c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: &img, Attribute: types.ImageAttributeNameDescription}); err != nil || out.Description == nil {
			t.Errorf("description of a public image: %+v %v", out, err)
		}

		// ModifyInstanceAttribute with an empty value.
		id := *run(t, c, &ec2.RunInstancesInput{ImageId: &img}).Instances[0].InstanceId
		_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id,
			Attribute: types.InstanceAttributeNameInstanceInitiatedShutdownBehavior, Value: aws.String("")})
		wantClientError(t, err, "MissingParameter")
		_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id,
			Attribute: types.InstanceAttributeNameDisableApiTermination, Value: aws.String("")})
		wantClientError(t, err, "MissingParameter")
		_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id,
			InstanceInitiatedShutdownBehavior: &types.AttributeValue{Value: aws.String("")}})
		wantClientError(t, err, "MissingParameter")

		// DescribeNetworkInterfaceAttribute without Attribute.
		inst := instanceOf(t, c, id)
		_, err = c.DescribeNetworkInterfaceAttribute(ctx, &ec2.DescribeNetworkInterfaceAttributeInput{NetworkInterfaceId: inst.NetworkInterfaces[0].NetworkInterfaceId})
		wantClientError(t, err, "InvalidParameterCombination")

		// ImportKeyPair with empty material.
		_, err = c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("empty"), PublicKeyMaterial: []byte{}})
		wantClientError(t, err, "MissingParameter")

		// CreateRoute to the VPC's own range.
		vpc := mustVPC(t, c, "10.60.0.0/16")
		rt, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: &vpc})
		if err != nil {
			t.Fatal(err)
		}
		igw := mustIGW(t, c)
		if _, err := c.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc}); err != nil {
			t.Fatal(err)
		}
		_, err = c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("10.60.0.0/16"), GatewayId: &igw})
		wantClientError(t, err, "InvalidParameterValue")
	})
}

// TestTerminatedInstanceLeavesNetworkFilters: once terminated, an instance
// shows no SubnetId, VpcId or groups, and the filters on them no longer
// match it (it still shows by id and state).
func TestTerminatedInstanceLeavesNetworkFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 32, 65536)
		a := srv.NewAccount(t, "a")
		c := a.EC2
		inst := run(t, c, &ec2.RunInstancesInput{ImageId: &img}).Instances[0]
		id, sub, vpc, group := *inst.InstanceId, *inst.SubnetId, *inst.VpcId, *inst.SecurityGroups[0].GroupId
		if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
		observe(t, srv, a.ID, id, "terminated", "deleted")
		if got := instanceOf(t, c, id); got.SubnetId != nil || got.VpcId != nil {
			t.Fatalf("terminated instance still shows %v %v", got.SubnetId, got.VpcId)
		}
		for _, f := range []types.Filter{flt("subnet-id", sub), flt("vpc-id", vpc), flt("instance.group-id", group), flt("group-id", group)} {
			if got := describeInstances(t, c, f, flt("instance-id", id)); len(got) != 0 {
				t.Errorf("filter %s=%s matches the terminated instance", *f.Name, f.Values[0])
			}
		}
		if got := describeInstances(t, c, flt("instance-state-name", "terminated")); len(got) != 1 {
			t.Errorf("terminated instance by state: %d", len(got))
		}
	})
}

// TestGetPasswordDataOfLinuxInstance: EC2 answers a Linux instance with
// its id, a timestamp and empty password data (it was UnsupportedOperation).
func TestGetPasswordDataOfLinuxInstance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 32, 65536)
		c := srv.NewAccount(t, "a").EC2
		id := *run(t, c, &ec2.RunInstancesInput{ImageId: &img}).Instances[0].InstanceId
		out, err := c.GetPasswordData(ctx, &ec2.GetPasswordDataInput{InstanceId: &id})
		if err != nil || aws.ToString(out.InstanceId) != id || out.PasswordData == nil || *out.PasswordData != "" || out.Timestamp == nil || out.Timestamp.IsZero() {
			t.Fatalf("GetPasswordData: %+v %v", out, err)
		}
		_, err = c.GetPasswordData(ctx, &ec2.GetPasswordDataInput{InstanceId: aws.String("i-0123456789abcdef0")})
		wantClientError(t, err, "InvalidInstanceID.NotFound")
	})
}
