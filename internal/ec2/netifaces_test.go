package ec2_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// eniFixture is a server with a node in kumo-1a, the demo image, and one
// account with a VPC (10.30.0.0/16) and two subnets: a (10.30.1.0/24 in
// kumo-1a) and b (10.30.2.0/24 in kumo-1b).
type eniFixture struct {
	srv             *controllertest.Server
	node            string
	a               *controllertest.Account
	c               *ec2.Client
	img             string
	vpc, sub, subB  string
	defaultGroup    string
	otherVPCGroupID string
}

func newENIFixture(t *testing.T, b storetest.Backend) eniFixture {
	t.Helper()
	ctx := context.Background()
	srv := controllertest.StartAPIOnly(t, b)
	f := eniFixture{srv: srv, img: demo(t, srv), a: srv.NewAccount(t, "a")}
	f.c = f.a.EC2
	f.node = readyNode(t, srv, "h1", "kumo-1a", 32, 65536)
	vpc, err := f.c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.30.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	f.vpc = *vpc.Vpc.VpcId
	for _, s := range []struct {
		cidr, zone string
		id         *string
	}{{"10.30.1.0/24", "kumo-1a", &f.sub}, {"10.30.2.0/24", "kumo-1b", &f.subB}} {
		out, err := f.c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &f.vpc, CidrBlock: aws.String(s.cidr), AvailabilityZone: aws.String(s.zone)})
		if err != nil {
			t.Fatal(err)
		}
		*s.id = *out.Subnet.SubnetId
	}
	groups, err := f.c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{flt("vpc-id", f.vpc)}})
	if err != nil || len(groups.SecurityGroups) != 1 {
		t.Fatalf("groups of the new VPC: %+v %v", groups, err)
	}
	f.defaultGroup = *groups.SecurityGroups[0].GroupId
	// The default VPC's default group: a group of another VPC.
	other, err := f.c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{flt("group-name", "default")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range other.SecurityGroups {
		if *g.VpcId != f.vpc {
			f.otherVPCGroupID = *g.GroupId
		}
	}
	return f
}

func (f eniFixture) create(t *testing.T, in *ec2.CreateNetworkInterfaceInput) types.NetworkInterface {
	t.Helper()
	if in.SubnetId == nil {
		in.SubnetId = &f.sub
	}
	out, err := f.c.CreateNetworkInterface(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateNetworkInterface: %v", err)
	}
	return *out.NetworkInterface
}

func (f eniFixture) describe(t *testing.T, in *ec2.DescribeNetworkInterfacesInput) []types.NetworkInterface {
	t.Helper()
	out, err := f.c.DescribeNetworkInterfaces(context.Background(), in)
	if err != nil {
		t.Fatalf("DescribeNetworkInterfaces: %v", err)
	}
	return out.NetworkInterfaces
}

func (f eniFixture) get(t *testing.T, id string) types.NetworkInterface {
	t.Helper()
	list := f.describe(t, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
	if len(list) != 1 {
		t.Fatalf("describe %s: %+v", id, list)
	}
	return list[0]
}

// runningInstance launches a t3.micro in subnet a and marks it running.
func (f eniFixture) runningInstance(t *testing.T) string {
	t.Helper()
	id := *run(t, f.c, &ec2.RunInstancesInput{ImageId: &f.img, SubnetId: &f.sub}).Instances[0].InstanceId
	observe(t, f.srv, f.a.ID, id, "running", "running")
	return id
}

func ips(list []types.NetworkInterfacePrivateIpAddress) []string {
	var out []string
	for _, a := range list {
		out = append(out, *a.PrivateIpAddress)
	}
	return out
}

func eniIDs(list []types.NetworkInterface) []string {
	var out []string
	for _, n := range list {
		out = append(out, *n.NetworkInterfaceId)
	}
	return out
}

func TestNetworkInterfaceCreateDescribeDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newENIFixture(t, b)
		n := f.create(t, &ec2.CreateNetworkInterfaceInput{Description: aws.String("web frontend"), PrivateIpAddress: aws.String("10.30.1.50"),
			SecondaryPrivateIpAddressCount: aws.Int32(2),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkInterface,
				Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("front")}}}}})
		if !strings.HasPrefix(*n.NetworkInterfaceId, "eni-") || n.Status != types.NetworkInterfaceStatusAvailable || *n.Description != "web frontend" ||
			*n.PrivateIpAddress != "10.30.1.50" || !slices.Equal(ips(n.PrivateIpAddresses), []string{"10.30.1.50", "10.30.1.4", "10.30.1.5"}) ||
			!*n.PrivateIpAddresses[0].Primary || *n.PrivateIpAddresses[1].Primary || *n.SubnetId != f.sub || *n.VpcId != f.vpc ||
			*n.AvailabilityZone != "kumo-1a" || !strings.HasPrefix(*n.MacAddress, "02:") || !*n.SourceDestCheck || n.Attachment != nil ||
			len(n.Groups) != 1 || *n.Groups[0].GroupId != f.defaultGroup || *n.Groups[0].GroupName != "default" || *n.OwnerId != f.a.ID ||
			n.InterfaceType != types.NetworkInterfaceTypeInterface || len(n.TagSet) != 1 || *n.PrivateDnsName != "ip-10-30-1-50.kumo-1.compute.internal" {
			t.Fatalf("created: %+v", n)
		}
		id := *n.NetworkInterfaceId
		// ClientToken: the same request again returns the same interface.
		tok := f.create(t, &ec2.CreateNetworkInterfaceInput{ClientToken: aws.String("tok-1"), Groups: []string{f.defaultGroup},
			PrivateIpAddresses: []types.PrivateIpAddressSpecification{{Primary: aws.Bool(true), PrivateIpAddress: aws.String("10.30.1.60")},
				{PrivateIpAddress: aws.String("10.30.1.61")}}})
		again := f.create(t, &ec2.CreateNetworkInterfaceInput{ClientToken: aws.String("tok-1"), Groups: []string{f.defaultGroup}})
		if *again.NetworkInterfaceId != *tok.NetworkInterfaceId || !slices.Equal(ips(tok.PrivateIpAddresses), []string{"10.30.1.60", "10.30.1.61"}) {
			t.Fatalf("client token: %s then %s (%v)", *tok.NetworkInterfaceId, *again.NetworkInterfaceId, ips(tok.PrivateIpAddresses))
		}
		_, err := f.c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: &f.subB, ClientToken: aws.String("tok-1")})
		wantClientError(t, err, "IdempotentParameterMismatch")

		byFilter := func(name string, values ...string) []string {
			t.Helper()
			return eniIDs(f.describe(t, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{flt(name, values...)}}))
		}
		for _, c := range []struct {
			name, value string
			want        []string
		}{
			{"network-interface-id", id, []string{id}},
			{"addresses.private-ip-address", "10.30.1.5", []string{id}},
			{"private-ip-address", "10.30.1.5", nil},
			{"description", "web frontend", []string{id}},
			{"tag:Name", "front", []string{id}},
			{"mac-address", *n.MacAddress, []string{id}},
			{"status", "in-use", nil},
			{"subnet-id", f.subB, nil},
			{"availability-zone", "kumo-1a", slices.Sorted(slices.Values([]string{id, *tok.NetworkInterfaceId}))},
		} {
			if got := byFilter(c.name, c.value); !slices.Equal(got, c.want) {
				t.Errorf("filter %s=%s: %v, want %v", c.name, c.value, got, c.want)
			}
		}
		if got := byFilter("vpc-id", f.vpc); len(got) != 2 {
			t.Errorf("vpc-id: %v", got)
		}
		if got := byFilter("group-id", f.defaultGroup); len(got) != 2 {
			t.Errorf("group-id: %v", got)
		}

		// Pagination: 6 interfaces, pages of 5.
		for range 4 {
			f.create(t, &ec2.CreateNetworkInterfaceInput{})
		}
		p1, err := f.c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5)})
		if err != nil || len(p1.NetworkInterfaces) != 5 || p1.NextToken == nil {
			t.Fatalf("page 1: %+v %v", p1, err)
		}
		p2, err := f.c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{MaxResults: aws.Int32(5), NextToken: p1.NextToken})
		if err != nil || len(p2.NetworkInterfaces) != 1 || p2.NextToken != nil {
			t.Fatalf("page 2: %+v %v", p2, err)
		}

		if _, err := f.c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: &id}); err != nil {
			t.Fatal(err)
		}
		_, err = f.c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: &id})
		wantClientError(t, err, "InvalidNetworkInterfaceID.NotFound")
		// Its addresses are free again.
		reuse := f.create(t, &ec2.CreateNetworkInterfaceInput{PrivateIpAddress: aws.String("10.30.1.50")})
		if *reuse.PrivateIpAddress != "10.30.1.50" {
			t.Fatalf("reused %s", *reuse.PrivateIpAddress)
		}
	})
}

func TestNetworkInterfaceCreateErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newENIFixture(t, b)
		f.create(t, &ec2.CreateNetworkInterfaceInput{PrivateIpAddress: aws.String("10.30.1.10")})
		for _, c := range []struct {
			name string
			in   ec2.CreateNetworkInterfaceInput
			code string
		}{
			{"malformed subnet", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String("subnet-zz")}, "InvalidSubnetID.Malformed"},
			{"unknown subnet", ec2.CreateNetworkInterfaceInput{SubnetId: aws.String("subnet-0123456789abcdef0")}, "InvalidSubnetID.NotFound"},
			{"address outside", ec2.CreateNetworkInterfaceInput{SubnetId: &f.sub, PrivateIpAddress: aws.String("10.30.2.10")}, "InvalidParameterValue"},
			{"reserved address", ec2.CreateNetworkInterfaceInput{SubnetId: &f.sub, PrivateIpAddress: aws.String("10.30.1.1")}, "InvalidParameterValue"},
			{"address in use", ec2.CreateNetworkInterfaceInput{SubnetId: &f.sub, PrivateIpAddress: aws.String("10.30.1.10")}, "InvalidIPAddress.InUse"},
			{"unknown group", ec2.CreateNetworkInterfaceInput{SubnetId: &f.sub, Groups: []string{"sg-0123456789abcdef0"}}, "InvalidGroup.NotFound"},
			{"malformed group", ec2.CreateNetworkInterfaceInput{SubnetId: &f.sub, Groups: []string{"nope"}}, "InvalidGroupId.Malformed"},
			{"group of another VPC", ec2.CreateNetworkInterfaceInput{SubnetId: &f.sub, Groups: []string{f.otherVPCGroupID}}, "InvalidParameterValue"},
			{"IPv6", ec2.CreateNetworkInterfaceInput{SubnetId: &f.sub, Ipv6AddressCount: aws.Int32(1)}, "InvalidParameterValue"},
			{"bad count", ec2.CreateNetworkInterfaceInput{SubnetId: &f.sub, SecondaryPrivateIpAddressCount: aws.Int32(0)}, "InvalidParameterValue"},
			{"too many", ec2.CreateNetworkInterfaceInput{SubnetId: &f.sub, SecondaryPrivateIpAddressCount: aws.Int32(60)}, "PrivateIpAddressLimitExceeded"},
			{"tag type", ec2.CreateNetworkInterfaceInput{SubnetId: &f.sub, TagSpecifications: []types.TagSpecification{
				{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}}}, "InvalidParameterValue"},
		} {
			_, err := f.c.CreateNetworkInterface(ctx, &c.in)
			if err == nil {
				t.Errorf("%s: no error", c.name)
				continue
			}
			wantClientError(t, err, c.code)
		}
		_, err := f.c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-0123456789abcdef0"}})
		wantClientError(t, err, "InvalidNetworkInterfaceID.NotFound")
		_, err = f.c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-xyz"}})
		wantClientError(t, err, "InvalidNetworkInterfaceID.Malformed")
		_, err = f.c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{flt("no-such-filter", "x")}})
		wantClientError(t, err, "InvalidParameterValue")
		_, err = f.c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-0123456789abcdef0"}, MaxResults: aws.Int32(5)})
		wantClientError(t, err, "InvalidParameterCombination")
	})
}

func TestNetworkInterfaceAttachDetach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newENIFixture(t, b)
		pending := *run(t, f.c, &ec2.RunInstancesInput{ImageId: &f.img, SubnetId: &f.sub}).Instances[0].InstanceId
		inst := f.runningInstance(t)
		eni := *f.create(t, &ec2.CreateNetworkInterfaceInput{SecondaryPrivateIpAddressCount: aws.Int32(1)}).NetworkInterfaceId
		attach := func(eni, inst string, index int32) (string, error) {
			out, err := f.c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: &eni, InstanceId: &inst, DeviceIndex: &index})
			if err != nil {
				return "", err
			}
			return *out.AttachmentId, nil
		}
		_, err := attach(eni, pending, 1)
		wantClientError(t, err, "IncorrectInstanceState")
		_, err = attach(eni, inst, -1)
		wantClientError(t, err, "InvalidParameterValue")
		_, err = attach("eni-0123456789abcdef0", inst, 1)
		wantClientError(t, err, "InvalidNetworkInterfaceID.NotFound")
		_, err = attach(eni, "i-0123456789abcdef0", 1)
		wantClientError(t, err, "InvalidInstanceID.NotFound")

		att, err := attach(eni, inst, 1)
		if err != nil || !strings.HasPrefix(att, "eni-attach-") {
			t.Fatalf("attach: %q %v", att, err)
		}
		n := f.get(t, eni)
		if n.Status != types.NetworkInterfaceStatusInUse || n.Attachment == nil || *n.Attachment.AttachmentId != att ||
			*n.Attachment.InstanceId != inst || *n.Attachment.DeviceIndex != 1 || *n.Attachment.DeleteOnTermination ||
			n.Attachment.Status != types.AttachmentStatusAttached || *n.Attachment.InstanceOwnerId != f.a.ID {
			t.Fatalf("attached: %+v %+v", n, n.Attachment)
		}
		// The instance's primary interface is a resource too.
		both := f.describe(t, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{flt("attachment.instance-id", inst)}})
		if len(both) != 2 {
			t.Fatalf("interfaces of %s: %v", inst, eniIDs(both))
		}
		for _, x := range both {
			if *x.Attachment.DeviceIndex == 0 && (!*x.Attachment.DeleteOnTermination || x.Status != types.NetworkInterfaceStatusInUse) {
				t.Errorf("primary: %+v", x.Attachment)
			}
		}
		if got := eniIDs(f.describe(t, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{flt("attachment.device-index", "1")}})); !slices.Equal(got, []string{eni}) {
			t.Errorf("device-index 1: %v", got)
		}
		in := instanceOf(t, f.c, inst)
		if len(in.NetworkInterfaces) != 2 {
			t.Fatalf("DescribeInstances interfaces: %+v", in.NetworkInterfaces)
		}
		x := in.NetworkInterfaces[1]
		if *x.NetworkInterfaceId != eni || *x.Attachment.DeviceIndex != 1 || *x.Attachment.AttachmentId != att || len(x.PrivateIpAddresses) != 2 ||
			*x.Attachment.DeleteOnTermination || len(x.Groups) != 1 || *x.Groups[0].GroupId != f.defaultGroup || !*x.SourceDestCheck ||
			*in.NetworkInterfaces[0].Attachment.DeviceIndex != 0 {
			t.Fatalf("DescribeInstances second interface: %+v", x)
		}
		if got := describeInstances(t, f.c, flt("network-interface.addresses.private-ip-address", *x.PrivateIpAddresses[1].PrivateIpAddress)); len(got) != 1 {
			t.Errorf("instance by its second interface's secondary address: %d", len(got))
		}

		// Errors once attached.
		_, err = attach(eni, inst, 2)
		wantClientError(t, err, "InvalidNetworkInterface.InUse")
		other := *f.create(t, &ec2.CreateNetworkInterfaceInput{}).NetworkInterfaceId
		_, err = attach(other, inst, 1)
		wantClientError(t, err, "InvalidParameterValue")
		_, err = attach(other, inst, 2) // t3.micro takes 2 interfaces
		wantClientError(t, err, "AttachmentLimitExceeded")
		elsewhere := *f.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: &f.subB}).NetworkInterfaceId
		_, err = attach(elsewhere, pending, 1)
		wantClientError(t, err, "IncorrectInstanceState")
		observe(t, f.srv, f.a.ID, pending, "running", "running")
		_, err = attach(elsewhere, pending, 1)
		wantClientError(t, err, "InvalidParameterCombination")
		_, err = f.c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: &eni})
		wantClientError(t, err, "InvalidNetworkInterface.InUse")
		primaryAtt := *in.NetworkInterfaces[0].Attachment.AttachmentId
		_, err = f.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: &primaryAtt})
		wantClientError(t, err, "OperationNotPermitted")
		_, err = f.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String("eni-attach-0123456789abcdef0")})
		wantClientError(t, err, "InvalidAttachmentID.NotFound")

		if _, err := f.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: &att, Force: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		if n := f.get(t, eni); n.Status != types.NetworkInterfaceStatusAvailable || n.Attachment != nil {
			t.Fatalf("detached: %+v", n)
		}
		if in := instanceOf(t, f.c, inst); len(in.NetworkInterfaces) != 1 {
			t.Fatalf("after detach, DescribeInstances shows %d interfaces", len(in.NetworkInterfaces))
		}
		_, err = f.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: &att})
		wantClientError(t, err, "InvalidAttachmentID.NotFound")

		// Termination: the primary goes with the instance, the other is detached.
		if _, err := attach(eni, inst, 1); err != nil {
			t.Fatal(err)
		}
		primary := *in.NetworkInterfaces[0].NetworkInterfaceId
		if _, err := f.c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{inst}}); err != nil {
			t.Fatal(err)
		}
		observe(t, f.srv, f.a.ID, inst, "terminated", "deleted")
		_, err = f.c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{primary}})
		wantClientError(t, err, "InvalidNetworkInterfaceID.NotFound")
		if n := f.get(t, eni); n.Status != types.NetworkInterfaceStatusAvailable || n.Attachment != nil || len(n.PrivateIpAddresses) != 2 {
			t.Fatalf("after termination: %+v", n)
		}
		if _, err := f.c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: &eni}); err != nil {
			t.Fatalf("delete after termination: %v", err)
		}
	})
}

func TestNetworkInterfaceModifyAttributes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newENIFixture(t, b)
		inst := f.runningInstance(t)
		primary := instanceOf(t, f.c, inst).NetworkInterfaces[0]
		pid, att := *primary.NetworkInterfaceId, *primary.Attachment.AttachmentId
		g, err := f.c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: &f.vpc})
		if err != nil {
			t.Fatal(err)
		}
		modify := func(in ec2.ModifyNetworkInterfaceAttributeInput) error {
			in.NetworkInterfaceId = &pid
			_, err := f.c.ModifyNetworkInterfaceAttribute(ctx, &in)
			return err
		}
		attr := func(name types.NetworkInterfaceAttribute) *ec2.DescribeNetworkInterfaceAttributeOutput {
			t.Helper()
			out, err := f.c.DescribeNetworkInterfaceAttribute(ctx, &ec2.DescribeNetworkInterfaceAttributeInput{NetworkInterfaceId: &pid, Attribute: name})
			if err != nil {
				t.Fatalf("describe attribute %s: %v", name, err)
			}
			return out
		}
		for _, in := range []ec2.ModifyNetworkInterfaceAttributeInput{
			{Description: &types.AttributeValue{Value: aws.String("primary")}},
			{SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}},
			{Groups: []string{*g.GroupId, f.defaultGroup}},
			{Attachment: &types.NetworkInterfaceAttachmentChanges{AttachmentId: &att, DeleteOnTermination: aws.Bool(false)}},
		} {
			if err := modify(in); err != nil {
				t.Fatalf("modify %+v: %v", in, err)
			}
		}
		if d := attr(types.NetworkInterfaceAttributeDescription); *d.Description.Value != "primary" {
			t.Errorf("description %+v", d.Description)
		}
		if d := attr(types.NetworkInterfaceAttributeSourceDestCheck); *d.SourceDestCheck.Value {
			t.Errorf("sourceDestCheck %+v", d.SourceDestCheck)
		}
		if d := attr(types.NetworkInterfaceAttributeGroupSet); len(d.Groups) != 2 || *d.Groups[0].GroupId != *g.GroupId {
			t.Errorf("groups %+v", d.Groups)
		}
		if d := attr(types.NetworkInterfaceAttributeAttachment); *d.Attachment.DeleteOnTermination || *d.Attachment.AttachmentId != att {
			t.Errorf("attachment %+v", d.Attachment)
		}
		// The instance mirrors its primary interface.
		in := instanceOf(t, f.c, inst)
		if *in.SourceDestCheck || len(in.SecurityGroups) != 2 || *in.NetworkInterfaces[0].Description != "primary" ||
			*in.NetworkInterfaces[0].SourceDestCheck || *in.NetworkInterfaces[0].Attachment.DeleteOnTermination {
			t.Errorf("instance after modify: sdc %v groups %+v interface %+v", *in.SourceDestCheck, in.SecurityGroups, in.NetworkInterfaces[0])
		}
		// Not deleted on termination any more: it stays, detached.
		if _, err := f.c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{inst}}); err != nil {
			t.Fatal(err)
		}
		observe(t, f.srv, f.a.ID, inst, "terminated", "deleted")
		if n := f.get(t, pid); n.Status != types.NetworkInterfaceStatusAvailable || len(n.Groups) != 2 {
			t.Errorf("former primary: %+v", n)
		}

		for _, c := range []struct {
			name string
			in   ec2.ModifyNetworkInterfaceAttributeInput
			code string
		}{
			{"nothing", ec2.ModifyNetworkInterfaceAttributeInput{}, "MissingParameter"},
			{"two", ec2.ModifyNetworkInterfaceAttributeInput{Description: &types.AttributeValue{Value: aws.String("x")},
				SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(true)}}, "InvalidParameterCombination"},
			{"detached attachment", ec2.ModifyNetworkInterfaceAttributeInput{Attachment: &types.NetworkInterfaceAttachmentChanges{
				AttachmentId: &att, DeleteOnTermination: aws.Bool(true)}}, "InvalidAttachmentID.NotFound"},
			{"group of another VPC", ec2.ModifyNetworkInterfaceAttributeInput{Groups: []string{f.otherVPCGroupID}}, "InvalidParameterValue"},
		} {
			wantClientError(t, modify(c.in), c.code)
		}
		_, err = f.c.DescribeNetworkInterfaceAttribute(ctx, &ec2.DescribeNetworkInterfaceAttributeInput{NetworkInterfaceId: &pid, Attribute: "bogus"})
		wantClientError(t, err, "InvalidParameterValue")
		_, err = f.c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String("eni-0123456789abcdef0"),
			Description: &types.AttributeValue{Value: aws.String("x")}})
		wantClientError(t, err, "InvalidNetworkInterfaceID.NotFound")
	})
}

func TestPrivateIPAddressesAssignUnassign(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newENIFixture(t, b)
		a := *f.create(t, &ec2.CreateNetworkInterfaceInput{PrivateIpAddress: aws.String("10.30.1.10")}).NetworkInterfaceId
		other := *f.create(t, &ec2.CreateNetworkInterfaceInput{PrivateIpAddress: aws.String("10.30.1.11")}).NetworkInterfaceId
		assign := func(id string, in ec2.AssignPrivateIpAddressesInput) (*ec2.AssignPrivateIpAddressesOutput, error) {
			in.NetworkInterfaceId = &id
			return f.c.AssignPrivateIpAddresses(ctx, &in)
		}
		out, err := assign(a, ec2.AssignPrivateIpAddressesInput{SecondaryPrivateIpAddressCount: aws.Int32(2)})
		if err != nil || len(out.AssignedPrivateIpAddresses) != 2 || *out.AssignedPrivateIpAddresses[0].PrivateIpAddress != "10.30.1.4" {
			t.Fatalf("assign count: %+v %v", out, err)
		}
		if _, err := assign(other, ec2.AssignPrivateIpAddressesInput{PrivateIpAddresses: []string{"10.30.1.20"}}); err != nil {
			t.Fatal(err)
		}
		_, err = assign(a, ec2.AssignPrivateIpAddressesInput{PrivateIpAddresses: []string{"10.30.1.20"}})
		wantClientError(t, err, "InvalidIPAddress.InUse")
		_, err = assign(a, ec2.AssignPrivateIpAddressesInput{PrivateIpAddresses: []string{"10.30.1.11"}, AllowReassignment: aws.Bool(true)})
		wantClientError(t, err, "InvalidIPAddress.InUse") // a primary address never moves
		if _, err := assign(a, ec2.AssignPrivateIpAddressesInput{PrivateIpAddresses: []string{"10.30.1.20"}, AllowReassignment: aws.Bool(true)}); err != nil {
			t.Fatalf("reassign: %v", err)
		}
		if got := ips(f.get(t, a).PrivateIpAddresses); !slices.Equal(got, []string{"10.30.1.10", "10.30.1.20", "10.30.1.4", "10.30.1.5"}) {
			t.Errorf("a's addresses: %v", got)
		}
		if got := ips(f.get(t, other).PrivateIpAddresses); !slices.Equal(got, []string{"10.30.1.11"}) {
			t.Errorf("other's addresses after reassignment: %v", got)
		}
		_, err = assign(a, ec2.AssignPrivateIpAddressesInput{PrivateIpAddresses: []string{"10.30.1.30"}, SecondaryPrivateIpAddressCount: aws.Int32(1)})
		wantClientError(t, err, "InvalidParameterCombination")
		_, err = assign(a, ec2.AssignPrivateIpAddressesInput{})
		wantClientError(t, err, "MissingParameter")
		_, err = assign(a, ec2.AssignPrivateIpAddressesInput{PrivateIpAddresses: []string{"10.99.0.5"}})
		wantClientError(t, err, "InvalidParameterValue")

		// An elastic IP on a secondary address.
		attachGateway(t, f.c, f.vpc)
		e := allocate(t, f.c)
		associate(t, f.c, &ec2.AssociateAddressInput{AllocationId: e.AllocationId, NetworkInterfaceId: &a, PrivateIpAddress: aws.String("10.30.1.20")})
		n := f.get(t, a)
		if n.Association != nil || n.PrivateIpAddresses[1].Association == nil || *n.PrivateIpAddresses[1].Association.PublicIp != *e.PublicIp ||
			*n.PrivateIpAddresses[1].Association.AllocationId != *e.AllocationId {
			t.Fatalf("elastic IP on a secondary address: %+v %+v", n.Association, n.PrivateIpAddresses)
		}
		if got := eniIDs(f.describe(t, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{flt("association.public-ip", *e.PublicIp)}})); !slices.Equal(got, []string{a}) {
			t.Errorf("association.public-ip: %v", got)
		}
		_, err = f.c.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: e.AllocationId, NetworkInterfaceId: &a,
			PrivateIpAddress: aws.String("10.30.1.99"), AllowReassociation: aws.Bool(true)})
		wantClientError(t, err, "InvalidParameterValue")

		// Unassigning an address disassociates its elastic IP.
		_, err = f.c.UnassignPrivateIpAddresses(ctx, &ec2.UnassignPrivateIpAddressesInput{NetworkInterfaceId: &a, PrivateIpAddresses: []string{"10.30.1.10"}})
		wantClientError(t, err, "InvalidParameterValue")
		_, err = f.c.UnassignPrivateIpAddresses(ctx, &ec2.UnassignPrivateIpAddressesInput{NetworkInterfaceId: &a, PrivateIpAddresses: []string{"10.30.1.77"}})
		wantClientError(t, err, "InvalidParameterValue")
		if _, err := f.c.UnassignPrivateIpAddresses(ctx, &ec2.UnassignPrivateIpAddressesInput{NetworkInterfaceId: &a,
			PrivateIpAddresses: []string{"10.30.1.20", "10.30.1.5"}}); err != nil {
			t.Fatal(err)
		}
		if got := ips(f.get(t, a).PrivateIpAddresses); !slices.Equal(got, []string{"10.30.1.10", "10.30.1.4"}) {
			t.Errorf("after unassign: %v", got)
		}
		if got := describeAddresses(t, f.c, &ec2.DescribeAddressesInput{AllocationIds: []string{*e.AllocationId}}); got[0].AssociationId != nil {
			t.Errorf("elastic IP still associated: %+v", got[0])
		}

		// Attached to a t3.micro, an interface has at most 2 addresses.
		inst := f.runningInstance(t)
		if _, err := f.c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: &a, InstanceId: &inst, DeviceIndex: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
		_, err = assign(a, ec2.AssignPrivateIpAddressesInput{SecondaryPrivateIpAddressCount: aws.Int32(1)})
		wantClientError(t, err, "PrivateIpAddressLimitExceeded")
		primary := *instanceOf(t, f.c, inst).NetworkInterfaces[0].NetworkInterfaceId
		if _, err := assign(primary, ec2.AssignPrivateIpAddressesInput{SecondaryPrivateIpAddressCount: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
		in := instanceOf(t, f.c, inst)
		if len(in.NetworkInterfaces) != 2 || len(in.NetworkInterfaces[0].PrivateIpAddresses) != 2 || *in.NetworkInterfaces[0].PrivateIpAddresses[1].Primary {
			t.Errorf("DescribeInstances after assigning to the primary: %+v", in.NetworkInterfaces)
		}
	})
}

// TestAttachedInterfaceReachesDesiredState: what the API does to an
// instance's interfaces is what its node is asked to wire up.
func TestAttachedInterfaceReachesDesiredState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newENIFixture(t, b)
		inst := f.runningInstance(t)
		primary := *instanceOf(t, f.c, inst).NetworkInterfaces[0].NetworkInterfaceId
		eni := f.create(t, &ec2.CreateNetworkInterfaceInput{PrivateIpAddress: aws.String("10.30.1.40")})
		att, err := f.c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: eni.NetworkInterfaceId,
			InstanceId: &inst, DeviceIndex: aws.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: &primary,
			PrivateIpAddresses: []string{"10.30.1.41"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: eni.NetworkInterfaceId,
			SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}}); err != nil {
			t.Fatal(err)
		}
		spec := func() nodeapi.InstanceSpec {
			t.Helper()
			d, err := f.srv.Nodes.Desired(ctx, f.node)
			if err != nil {
				t.Fatal(err)
			}
			for _, sp := range d.Instances {
				if sp.ID == inst {
					return sp
				}
			}
			t.Fatalf("%s not in the desired state", inst)
			return nodeapi.InstanceSpec{}
		}
		sp := spec()
		if sp.Network.InterfaceID != primary || !slices.Equal(sp.Network.SecondaryIPs, []string{"10.30.1.41"}) ||
			!slices.Equal(sp.Network.SecurityGroupIDs, []string{f.defaultGroup}) || sp.Network.NoSourceDestCheck {
			t.Errorf("primary in the desired state: %+v", sp.Network)
		}
		if len(sp.Extra) != 1 || sp.Extra[0].InterfaceID != *eni.NetworkInterfaceId || sp.Extra[0].DeviceIndex != 1 ||
			sp.Extra[0].PrivateIP != "10.30.1.40" || sp.Extra[0].MAC != *eni.MacAddress || !sp.Extra[0].NoSourceDestCheck ||
			sp.Extra[0].SubnetCIDR != "10.30.1.0/24" || sp.Extra[0].Gateway != "10.30.1.1" {
			t.Errorf("extra interfaces in the desired state: %+v", sp.Extra)
		}
		if _, err := f.c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: att.AttachmentId}); err != nil {
			t.Fatal(err)
		}
		if sp := spec(); len(sp.Extra) != 0 {
			t.Errorf("detached interface still in the desired state: %+v", sp.Extra)
		}
	})
}

// TestElasticIPOnInstanceSecondaryAddress: AssociateAddress with an
// instance and one of its secondary addresses; the instance's public
// address stays its primary's.
func TestElasticIPOnInstanceSecondaryAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newENIFixture(t, b)
		inst := f.runningInstance(t)
		primary := *instanceOf(t, f.c, inst).NetworkInterfaces[0].NetworkInterfaceId
		if _, err := f.c.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{NetworkInterfaceId: &primary,
			PrivateIpAddresses: []string{"10.30.1.41"}}); err != nil {
			t.Fatal(err)
		}
		attachGateway(t, f.c, f.vpc)
		e := allocate(t, f.c)
		associate(t, f.c, &ec2.AssociateAddressInput{AllocationId: e.AllocationId, InstanceId: &inst, PrivateIpAddress: aws.String("10.30.1.41")})
		in := instanceOf(t, f.c, inst)
		ni := in.NetworkInterfaces[0]
		if in.PublicIpAddress != nil || ni.Association != nil || len(ni.PrivateIpAddresses) != 2 || ni.PrivateIpAddresses[1].Association == nil ||
			*ni.PrivateIpAddresses[1].Association.PublicIp != *e.PublicIp {
			t.Fatalf("instance with an elastic IP on a secondary address: public %v, interface %+v", in.PublicIpAddress, ni.PrivateIpAddresses)
		}
		d, err := f.srv.Nodes.Desired(ctx, f.node)
		if err != nil || len(d.Instances) != 1 || d.Instances[0].Network.PublicIP != "" ||
			d.Instances[0].Network.PublicIPs[*e.PublicIp] != "10.30.1.41" {
			t.Fatalf("desired state: %+v %v", d, err)
		}
	})
}
