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

// eipFixture is a server with a node, the demo image and one account.
type eipFixture struct {
	srv *controllertest.Server
	img string
	a   *controllertest.Account
}

func newEIPFixture(t *testing.T, b storetest.Backend) eipFixture {
	srv := controllertest.StartAPIOnly(t, b)
	f := eipFixture{srv: srv, img: demo(t, srv), a: srv.NewAccount(t, "a")}
	readyNode(t, srv, "h1", "kumo-1a", 32, 65536)
	return f
}

// launch starts one instance (in subnet when given) without an
// auto-assigned public IP (publicips_test.go has those) and returns its id.
func (f eipFixture) launch(t *testing.T, c *ec2.Client, subnet string) string {
	n := types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), AssociatePublicIpAddress: aws.Bool(false)}
	if subnet != "" {
		n.SubnetId = &subnet
	}
	in := &ec2.RunInstancesInput{ImageId: &f.img, NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{n}}
	return *run(t, c, in).Instances[0].InstanceId
}

func allocate(t *testing.T, c *ec2.Client) *ec2.AllocateAddressOutput {
	t.Helper()
	out, err := c.AllocateAddress(context.Background(), &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		t.Fatalf("AllocateAddress: %v", err)
	}
	return out
}

func associate(t *testing.T, c *ec2.Client, in *ec2.AssociateAddressInput) string {
	t.Helper()
	out, err := c.AssociateAddress(context.Background(), in)
	if err != nil {
		t.Fatalf("AssociateAddress %+v: %v", in, err)
	}
	if !strings.HasPrefix(*out.AssociationId, "eipassoc-") {
		t.Fatalf("association id %q", *out.AssociationId)
	}
	return *out.AssociationId
}

func describeAddresses(t *testing.T, c *ec2.Client, in *ec2.DescribeAddressesInput) []types.Address {
	t.Helper()
	out, err := c.DescribeAddresses(context.Background(), in)
	if err != nil {
		t.Fatalf("DescribeAddresses: %v", err)
	}
	return out.Addresses
}

func instanceOf(t *testing.T, c *ec2.Client, id string) types.Instance {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Reservations[0].Instances[0]
}

func TestElasticIPAllocateDescribeTag(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newEIPFixture(t, b)
		out, err := f.a.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc,
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeElasticIp, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}}})
		if err != nil {
			t.Fatal(err)
		}
		if *out.PublicIp != "192.0.2.1" || !strings.HasPrefix(*out.AllocationId, "eipalloc-") || len(*out.AllocationId) != 26 ||
			out.Domain != types.DomainTypeVpc || *out.PublicIpv4Pool != "kumo" || *out.NetworkBorderGroup != controllertest.Region {
			t.Fatalf("allocated %+v", out)
		}
		second := allocate(t, f.a.EC2)
		if *second.PublicIp != "192.0.2.2" {
			t.Fatalf("second address %s", *second.PublicIp)
		}
		list := describeAddresses(t, f.a.EC2, &ec2.DescribeAddressesInput{})
		if len(list) != 2 || *list[0].PublicIp != "192.0.2.1" || *list[0].AllocationId != *out.AllocationId || list[0].Domain != types.DomainTypeVpc ||
			len(list[0].Tags) != 1 || *list[0].Tags[0].Value != "web" || list[0].AssociationId != nil || list[0].InstanceId != nil {
			t.Fatalf("described %+v", list)
		}
		for _, in := range []*ec2.DescribeAddressesInput{
			{AllocationIds: []string{*out.AllocationId}},
			{PublicIps: []string{"192.0.2.1"}},
			{Filters: []types.Filter{flt("tag:Name", "web")}},
			{Filters: []types.Filter{flt("tag-key", "Name"), flt("domain", "vpc")}},
			{Filters: []types.Filter{flt("public-ip", "192.0.2.1")}},
			{Filters: []types.Filter{flt("allocation-id", *out.AllocationId)}},
		} {
			if got := describeAddresses(t, f.a.EC2, in); len(got) != 1 || *got[0].AllocationId != *out.AllocationId {
				t.Fatalf("%+v matched %+v", in, got)
			}
		}
		// Tags through CreateTags/DeleteTags/DescribeTags.
		if _, err := f.a.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{*second.AllocationId},
			Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
			t.Fatal(err)
		}
		tags, err := f.a.EC2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{flt("resource-id", *second.AllocationId)}})
		if err != nil || len(tags.Tags) != 1 || tags.Tags[0].ResourceType != types.ResourceTypeElasticIp {
			t.Fatalf("tags %+v %v", tags, err)
		}
		_, err = f.a.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"eipalloc-0123456789abcdef0"},
			Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		wantClientError(t, err, "InvalidAllocationID.NotFound")

		// Errors of DescribeAddresses.
		_, err = f.a.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{"eipalloc-0123456789abcdef0"}})
		wantClientError(t, err, "InvalidAllocationID.NotFound")
		_, err = f.a.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{PublicIps: []string{"192.0.2.6"}})
		wantClientError(t, err, "InvalidAddress.NotFound")
		_, err = f.a.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: []types.Filter{flt("bogus", "x")}})
		wantClientError(t, err, "InvalidParameterValue")

		// Errors of AllocateAddress.
		_, err = f.a.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeStandard})
		wantClientError(t, err, "InvalidParameterValue")
		_, err = f.a.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Address: aws.String("203.0.113.1")})
		wantClientError(t, err, "InvalidParameterValue")
		_, err = f.a.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Address: aws.String("192.0.2.1")})
		wantClientError(t, err, "InvalidIPAddress.InUse")
		_, err = f.a.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{PublicIpv4Pool: aws.String("ipv4pool-ec2-0123")})
		wantClientError(t, err, "InvalidPublicIpv4PoolID.NotFound")
		_, err = f.a.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance}}})
		wantClientError(t, err, "InvalidParameterValue")
		if got, err := f.a.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Address: aws.String("192.0.2.5")}); err != nil || *got.PublicIp != "192.0.2.5" {
			t.Fatalf("allocate a chosen address: %+v %v", got, err)
		}

		// Another account sees nothing of these, and cannot name them.
		b2 := f.srv.NewAccount(t, "b")
		if got := describeAddresses(t, b2.EC2, &ec2.DescribeAddressesInput{}); len(got) != 0 {
			t.Fatalf("account b sees %+v", got)
		}
		_, err = b2.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{*out.AllocationId}})
		wantClientError(t, err, "InvalidAllocationID.NotFound")
		_, err = b2.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: out.AllocationId})
		wantClientError(t, err, "InvalidAllocationID.NotFound")
		_, err = b2.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{PublicIp: aws.String("192.0.2.1")})
		wantClientError(t, err, "AuthFailure")
		_, err = b2.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{*out.AllocationId}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		wantClientError(t, err, "InvalidAllocationID.NotFound")
		if got := allocate(t, b2.EC2); *got.PublicIp != "192.0.2.3" {
			t.Fatalf("account b got %s", *got.PublicIp)
		}

		// Release returns the address to the pool; its tags go with it.
		if _, err := f.a.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: out.AllocationId}); err != nil {
			t.Fatal(err)
		}
		_, err = f.a.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: out.AllocationId})
		wantClientError(t, err, "InvalidAllocationID.NotFound")
		_, err = f.a.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{})
		wantClientError(t, err, "MissingParameter")
		if got := allocate(t, b2.EC2); *got.PublicIp != "192.0.2.1" {
			t.Fatalf("released address not reused: %s", *got.PublicIp)
		}
		tags, err = f.a.EC2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{flt("resource-id", *out.AllocationId)}})
		if err != nil || len(tags.Tags) != 0 {
			t.Fatalf("tags of a released address: %+v %v", tags, err)
		}
	})
}

func TestElasticIPAssociateMovesAndDisassociates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newEIPFixture(t, b)
		i1, i2 := f.launch(t, f.a.EC2, ""), f.launch(t, f.a.EC2, "")
		e1, e2 := allocate(t, f.a.EC2), allocate(t, f.a.EC2)
		inst := instanceOf(t, f.a.EC2, i1)
		eni, priv := *inst.NetworkInterfaces[0].NetworkInterfaceId, *inst.PrivateIpAddress
		if inst.PublicIpAddress != nil || *inst.PublicDnsName != "" || inst.NetworkInterfaces[0].Association != nil {
			t.Fatalf("public address before association: %+v", inst)
		}

		assoc := associate(t, f.a.EC2, &ec2.AssociateAddressInput{AllocationId: e1.AllocationId, InstanceId: &i1})
		inst = instanceOf(t, f.a.EC2, i1)
		ni := inst.NetworkInterfaces[0]
		if inst.PublicIpAddress == nil || *inst.PublicIpAddress != *e1.PublicIp || *inst.PublicDnsName != "ec2-192-0-2-1.kumo-1.compute.kumo" ||
			ni.Association == nil || *ni.Association.PublicIp != *e1.PublicIp || *ni.Association.IpOwnerId != f.a.ID ||
			*ni.Association.PublicDnsName != *inst.PublicDnsName || ni.PrivateIpAddresses[0].Association == nil {
			t.Fatalf("associated instance: %+v", inst)
		}
		got := describeAddresses(t, f.a.EC2, &ec2.DescribeAddressesInput{AllocationIds: []string{*e1.AllocationId}})[0]
		if *got.AssociationId != assoc || *got.InstanceId != i1 || *got.NetworkInterfaceId != eni || *got.PrivateIpAddress != priv ||
			*got.NetworkInterfaceOwnerId != f.a.ID {
			t.Fatalf("associated address: %+v", got)
		}
		for _, fl := range [][]types.Filter{
			{flt("instance-id", i1)}, {flt("association-id", assoc)}, {flt("network-interface-id", eni)},
			{flt("private-ip-address", priv)}, {flt("network-interface-owner-id", f.a.ID)},
		} {
			if l := describeAddresses(t, f.a.EC2, &ec2.DescribeAddressesInput{Filters: fl}); len(l) != 1 || *l[0].AllocationId != *e1.AllocationId {
				t.Fatalf("filter %+v matched %+v", fl, l)
			}
		}
		for _, fl := range []types.Filter{flt("ip-address", "192.0.2.1"), flt("network-interface.addresses.association.public-ip", "192.0.2.1"),
			flt("dns-name", "ec2-192-0-2-1.*")} {
			if l := describeInstances(t, f.a.EC2, fl); len(l) != 1 || *l[0].InstanceId != i1 {
				t.Fatalf("instances filter %+v matched %d", fl, len(l))
			}
		}

		// Associating again with the same target is idempotent.
		if again := associate(t, f.a.EC2, &ec2.AssociateAddressInput{AllocationId: e1.AllocationId, NetworkInterfaceId: &eni, PrivateIpAddress: &priv}); again != assoc {
			t.Fatalf("re-association id %s, want %s", again, assoc)
		}
		// An associated address moves only with AllowReassociation.
		_, err := f.a.EC2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: e1.AllocationId, InstanceId: &i2})
		wantClientError(t, err, "Resource.AlreadyAssociated")
		_, err = f.a.EC2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: e1.AllocationId, InstanceId: &i2, AllowReassociation: aws.Bool(false)})
		wantClientError(t, err, "Resource.AlreadyAssociated")
		moved := associate(t, f.a.EC2, &ec2.AssociateAddressInput{AllocationId: e1.AllocationId, InstanceId: &i2, AllowReassociation: aws.Bool(true)})
		if instanceOf(t, f.a.EC2, i1).PublicIpAddress != nil || *instanceOf(t, f.a.EC2, i2).PublicIpAddress != *e1.PublicIp {
			t.Fatal("address did not move to the second instance")
		}
		// A second address on an instance replaces the first, which stays allocated.
		assoc2 := associate(t, f.a.EC2, &ec2.AssociateAddressInput{AllocationId: e2.AllocationId, InstanceId: &i2})
		if *instanceOf(t, f.a.EC2, i2).PublicIpAddress != *e2.PublicIp {
			t.Fatal("second address not on the instance")
		}
		if l := describeAddresses(t, f.a.EC2, &ec2.DescribeAddressesInput{AllocationIds: []string{*e1.AllocationId}}); l[0].AssociationId != nil {
			t.Fatalf("replaced address still associated: %+v", l[0])
		}
		_, err = f.a.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: &moved})
		wantClientError(t, err, "InvalidAssociationID.NotFound")
		if _, err := f.a.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: &assoc2}); err != nil {
			t.Fatal(err)
		}
		if instanceOf(t, f.a.EC2, i2).PublicIpAddress != nil {
			t.Fatal("public address after disassociation")
		}
		// By the (deprecated) public address too.
		associate(t, f.a.EC2, &ec2.AssociateAddressInput{PublicIp: e2.PublicIp, InstanceId: &i1})
		if _, err := f.a.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{PublicIp: e2.PublicIp}); err != nil {
			t.Fatal(err)
		}
		// An unassociated VPC address named by public address: EC2 asks for the association id.
		_, err = f.a.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{PublicIp: e2.PublicIp})
		wantClientError(t, err, "InvalidParameterValue")
	})
}

func TestElasticIPAssociateErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newEIPFixture(t, b)
		i1 := f.launch(t, f.a.EC2, "")
		e := allocate(t, f.a.EC2)
		eni := *instanceOf(t, f.a.EC2, i1).NetworkInterfaces[0].NetworkInterfaceId
		b2 := f.srv.NewAccount(t, "b")
		other := f.launch(t, b2.EC2, "")
		eb := allocate(t, b2.EC2)
		for _, c := range []struct {
			in   ec2.AssociateAddressInput
			code string
		}{
			{ec2.AssociateAddressInput{InstanceId: &i1}, "MissingParameter"},
			{ec2.AssociateAddressInput{AllocationId: e.AllocationId}, "MissingParameter"},
			{ec2.AssociateAddressInput{AllocationId: e.AllocationId, InstanceId: &i1, NetworkInterfaceId: &eni}, "InvalidParameterCombination"},
			{ec2.AssociateAddressInput{AllocationId: aws.String("eipalloc-0123456789abcdef0"), InstanceId: &i1}, "InvalidAllocationID.NotFound"},
			{ec2.AssociateAddressInput{AllocationId: aws.String("eipalloc-xyz"), InstanceId: &i1}, "InvalidAllocationID.Malformed"},
			{ec2.AssociateAddressInput{AllocationId: eb.AllocationId, InstanceId: &i1}, "InvalidAllocationID.NotFound"},
			{ec2.AssociateAddressInput{PublicIp: eb.PublicIp, InstanceId: &i1}, "AuthFailure"},
			{ec2.AssociateAddressInput{AllocationId: e.AllocationId, InstanceId: aws.String("i-0123456789abcdef0")}, "InvalidInstanceID.NotFound"},
			{ec2.AssociateAddressInput{AllocationId: e.AllocationId, InstanceId: aws.String("i-zz")}, "InvalidInstanceID.Malformed"},
			{ec2.AssociateAddressInput{AllocationId: e.AllocationId, InstanceId: &other}, "InvalidInstanceID.NotFound"},
			{ec2.AssociateAddressInput{AllocationId: e.AllocationId, NetworkInterfaceId: aws.String("eni-0123456789abcdef0")}, "InvalidNetworkInterfaceID.NotFound"},
			{ec2.AssociateAddressInput{AllocationId: e.AllocationId, NetworkInterfaceId: &eni, PrivateIpAddress: aws.String("172.31.9.9")}, "InvalidParameterValue"},
		} {
			_, err := f.a.EC2.AssociateAddress(ctx, &c.in)
			wantClientError(t, err, c.code)
		}
		_, err := f.a.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: aws.String("eipassoc-0123456789abcdef0")})
		wantClientError(t, err, "InvalidAssociationID.NotFound")
		_, err = f.a.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{})
		wantClientError(t, err, "MissingParameter")
		_, err = f.a.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{PublicIp: eb.PublicIp})
		wantClientError(t, err, "AuthFailure")
		// Another account's association is not found either.
		assocB := associate(t, b2.EC2, &ec2.AssociateAddressInput{AllocationId: eb.AllocationId, InstanceId: &other})
		_, err = f.a.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: &assocB})
		wantClientError(t, err, "InvalidAssociationID.NotFound")

		// Stopped instances take an address; terminated ones do not.
		observe(t, f.srv, f.a.ID, i1, "stopped", "stopped")
		assoc := associate(t, f.a.EC2, &ec2.AssociateAddressInput{AllocationId: e.AllocationId, InstanceId: &i1})
		observe(t, f.srv, f.a.ID, i1, "shutting-down", "running")
		e2 := allocate(t, f.a.EC2)
		_, err = f.a.EC2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: e2.AllocationId, InstanceId: &i1})
		wantClientError(t, err, "IncorrectInstanceState")
		// Still associated while shutting down; released when terminated.
		if l := describeAddresses(t, f.a.EC2, &ec2.DescribeAddressesInput{AllocationIds: []string{*e.AllocationId}}); l[0].AssociationId == nil || *l[0].AssociationId != assoc {
			t.Fatalf("shutting-down instance lost its address: %+v", l[0])
		}
		observe(t, f.srv, f.a.ID, i1, "terminated", "deleted")
		l := describeAddresses(t, f.a.EC2, &ec2.DescribeAddressesInput{AllocationIds: []string{*e.AllocationId}})
		if l[0].AssociationId != nil || l[0].InstanceId != nil || l[0].NetworkInterfaceId != nil {
			t.Fatalf("terminated instance keeps its address: %+v", l[0])
		}
		if got := instanceOf(t, f.a.EC2, i1); got.PublicIpAddress != nil {
			t.Fatalf("terminated instance shows %s", *got.PublicIpAddress)
		}
		if len(describeAddresses(t, f.a.EC2, &ec2.DescribeAddressesInput{Filters: []types.Filter{flt("instance-id", i1)}})) != 0 {
			t.Fatal("instance-id filter matches a terminated instance")
		}
		_, err = f.a.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: &assoc})
		wantClientError(t, err, "InvalidAssociationID.NotFound")
		if _, err := f.a.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: e.AllocationId}); err != nil {
			t.Fatalf("release after termination: %v", err)
		}
	})
}

func TestElasticIPReleaseWhileAssociated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newEIPFixture(t, b)
		vpc, err := f.a.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
		if err != nil {
			t.Fatal(err)
		}
		sn, err := f.a.EC2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.9.1.0/24")})
		if err != nil {
			t.Fatal(err)
		}
		// A nondefault VPC (with the internet gateway an association needs): release refused while associated.
		attachGateway(t, f.a.EC2, *vpc.Vpc.VpcId)
		inVPC := f.launch(t, f.a.EC2, *sn.Subnet.SubnetId)
		e := allocate(t, f.a.EC2)
		assoc := associate(t, f.a.EC2, &ec2.AssociateAddressInput{AllocationId: e.AllocationId, InstanceId: &inVPC})
		if got := instanceOf(t, f.a.EC2, inVPC); *got.PublicIpAddress != *e.PublicIp || *got.PrivateIpAddress != "10.9.1.4" {
			t.Fatalf("instance in a nondefault VPC: %+v", got)
		}
		_, err = f.a.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: e.AllocationId})
		wantClientError(t, err, "InvalidIPAddress.InUse")
		if _, err := f.a.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: &assoc}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.a.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: e.AllocationId}); err != nil {
			t.Fatal(err)
		}
		// The default VPC: release disassociates.
		inDefault := f.launch(t, f.a.EC2, "")
		e2 := allocate(t, f.a.EC2)
		associate(t, f.a.EC2, &ec2.AssociateAddressInput{AllocationId: e2.AllocationId, InstanceId: &inDefault})
		if _, err := f.a.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{PublicIp: e2.PublicIp}); err != nil {
			t.Fatalf("release in the default VPC: %v", err)
		}
		if got := instanceOf(t, f.a.EC2, inDefault); got.PublicIpAddress != nil {
			t.Fatalf("released address still on the instance: %s", *got.PublicIpAddress)
		}
		if l := describeAddresses(t, f.a.EC2, &ec2.DescribeAddressesInput{}); len(l) != 0 {
			t.Fatalf("addresses left: %+v", l)
		}
	})
}

func TestElasticIPLimitAndPoolExhaustion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newEIPFixture(t, b)
		for range 5 {
			allocate(t, f.a.EC2)
		}
		_, err := f.a.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{})
		wantClientError(t, err, "AddressLimitExceeded")
		// The pool (192.0.2.1-6) has one address left.
		b2 := f.srv.NewAccount(t, "b")
		if got := allocate(t, b2.EC2); *got.PublicIp != "192.0.2.6" {
			t.Fatalf("last address %s", *got.PublicIp)
		}
		_, err = b2.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{}, func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
		wantCode(t, err, "InsufficientAddressCapacity")
		var re interface{ HTTPStatusCode() int }
		if !errorsAs(err, &re) || re.HTTPStatusCode() != 500 {
			t.Fatalf("InsufficientAddressCapacity status: %v", err)
		}
	})
}

func TestElasticIPConcurrentAllocationNeverSharesAnAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := newEIPFixture(t, b)
		accounts := []*controllertest.Account{f.a, f.srv.NewAccount(t, "b"), f.srv.NewAccount(t, "c")}
		type result struct {
			account, ip string
			err         error
		}
		results := make(chan result, 12)
		for _, acc := range accounts {
			for range 4 {
				go func() {
					out, err := acc.EC2.AllocateAddress(context.Background(), &ec2.AllocateAddressInput{}, func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
					r := result{account: acc.ID, err: err}
					if err == nil {
						r.ip = *out.PublicIp
					}
					results <- r
				}()
			}
		}
		owner := map[string]string{}
		for range 12 {
			r := <-results
			if r.err != nil {
				wantCode(t, r.err, "InsufficientAddressCapacity")
				continue
			}
			if prev, dup := owner[r.ip]; dup {
				t.Fatalf("%s handed to %s and %s", r.ip, prev, r.account)
			}
			owner[r.ip] = r.account
		}
		if len(owner) != 6 {
			t.Fatalf("allocated %d addresses of 6: %v", len(owner), owner)
		}
		total := 0
		for _, acc := range accounts {
			total += len(describeAddresses(t, acc.EC2, &ec2.DescribeAddressesInput{}))
		}
		if total != 6 {
			t.Fatalf("accounts hold %d addresses", total)
		}
	})
}
