package ec2_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func nic(index int32) types.InstanceNetworkInterfaceSpecification {
	return types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(index)}
}

// TestRunInstancesWithSeveralInterfaces: RunInstances takes
// NetworkInterfaces with device indexes 0..n, new interfaces (subnet,
// groups, address, secondary addresses) and existing ones by id, and a
// public address on device 0, as EC2 (it refused more than one). The
// interface limit of the type counts interfaces; it does not cap the
// device index.
func TestRunInstancesWithSeveralInterfaces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newENIFixture(t, b)
		existing := f.create(t, &ec2.CreateNetworkInterfaceInput{Description: aws.String("made before")})
		primary := nic(0)
		primary.SubnetId, primary.Groups, primary.AssociatePublicIpAddress = &f.sub, []string{f.defaultGroup}, aws.Bool(true)
		primary.Description, primary.SecondaryPrivateIpAddressCount, primary.DeleteOnTermination = aws.String("first"), aws.Int32(1), aws.Bool(false)
		second := nic(1)
		second.NetworkInterfaceId = existing.NetworkInterfaceId
		third := nic(2)
		third.SubnetId, third.PrivateIpAddress, third.SecondaryPrivateIpAddressCount, third.Description = &f.sub, aws.String("10.30.1.50"), aws.Int32(1), aws.String("third")
		out := run(t, f.c, &ec2.RunInstancesInput{ImageId: &f.img, InstanceType: types.InstanceTypeM5Large,
			NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{third, primary, second}})
		inst := out.Instances[0]
		id := *inst.InstanceId
		check := func(what string, inst types.Instance) {
			t.Helper()
			if len(inst.NetworkInterfaces) != 3 {
				t.Fatalf("%s: %d interfaces", what, len(inst.NetworkInterfaces))
			}
			slices.SortFunc(inst.NetworkInterfaces, func(a, b types.InstanceNetworkInterface) int {
				return int(*a.Attachment.DeviceIndex - *b.Attachment.DeviceIndex)
			})
			n0, n1, n2 := inst.NetworkInterfaces[0], inst.NetworkInterfaces[1], inst.NetworkInterfaces[2]
			if *n0.Attachment.DeviceIndex != 0 || *n0.Attachment.DeleteOnTermination || n0.Association == nil || inst.PublicIpAddress == nil ||
				aws.ToString(n0.Description) != "first" || len(n0.PrivateIpAddresses) != 2 {
				t.Errorf("%s: primary %+v (public %v)", what, n0, inst.PublicIpAddress)
			}
			if *n1.NetworkInterfaceId != *existing.NetworkInterfaceId || *n1.Attachment.DeviceIndex != 1 || *n1.Attachment.DeleteOnTermination {
				t.Errorf("%s: existing interface %+v", what, n1)
			}
			if *n2.Attachment.DeviceIndex != 2 || *n2.PrivateIpAddress != "10.30.1.50" || len(n2.PrivateIpAddresses) != 2 ||
				aws.ToString(n2.Description) != "third" || !*n2.Attachment.DeleteOnTermination || *n2.Groups[0].GroupId != f.defaultGroup {
				t.Errorf("%s: new interface %+v", what, n2)
			}
		}
		check("RunInstances", inst)
		check("DescribeInstances", instanceOf(t, f.c, id))
		if got := describeInstances(t, f.c, flt("network-interface.network-interface-id", *existing.NetworkInterfaceId)); len(got) != 1 {
			t.Errorf("instance by its existing interface: %d", len(got))
		}
		// The node is told every interface.
		d, err := f.srv.Nodes.Desired(ctx, f.node)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(d.Instances, func(sp nodeapi.InstanceSpec) bool { return sp.ID == id })
		if i < 0 || len(d.Instances[i].Extra) != 2 || d.Instances[i].Extra[0].DeviceIndex != 1 || d.Instances[i].Extra[1].DeviceIndex != 2 ||
			d.Instances[i].Extra[1].PrivateIP != "10.30.1.50" {
			t.Fatalf("desired state of the node: %+v", d.Instances)
		}

		// Termination deletes what the launch made and detaches what it was given.
		observe(t, f.srv, f.a.ID, id, "running", "running")
		if _, err := f.c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
		observe(t, f.srv, f.a.ID, id, "terminated", "deleted")
		if e := f.get(t, *existing.NetworkInterfaceId); e.Status != types.NetworkInterfaceStatusAvailable || e.Attachment != nil {
			t.Errorf("existing interface after termination: %+v", e)
		}
		if e := f.get(t, *inst.NetworkInterfaces[0].NetworkInterfaceId); e.Status != types.NetworkInterfaceStatusAvailable || aws.ToString(e.Description) != "first" {
			t.Errorf("primary launched with DeleteOnTermination=false after termination: %+v", e)
		}
		if got := f.describe(t, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{flt("addresses.private-ip-address", "10.30.1.50")}}); len(got) != 0 {
			t.Errorf("the launched third interface outlived its instance: %+v", got)
		}

		// An existing interface as device 0: the instance takes its subnet and address.
		own := f.create(t, &ec2.CreateNetworkInterfaceInput{PrivateIpAddress: aws.String("10.30.1.77")})
		p := nic(0)
		p.NetworkInterfaceId = own.NetworkInterfaceId
		gap := nic(3) // device indexes need not be dense
		gap.SubnetId = &f.sub
		got := run(t, f.c, &ec2.RunInstancesInput{ImageId: &f.img, InstanceType: types.InstanceTypeT3Micro,
			NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{p, gap}}).Instances[0]
		if aws.ToString(got.PrivateIpAddress) != "10.30.1.77" || aws.ToString(got.SubnetId) != f.sub || len(got.NetworkInterfaces) != 2 {
			t.Fatalf("launch on an existing interface: %+v", got)
		}

		// Errors.
		withSub := func(n types.InstanceNetworkInterfaceSpecification) types.InstanceNetworkInterfaceSpecification {
			n.SubnetId = &f.sub
			return n
		}
		elsewhere := f.create(t, &ec2.CreateNetworkInterfaceInput{SubnetId: &f.subB})
		inB := nic(1)
		inB.NetworkInterfaceId = elsewhere.NetworkInterfaceId
		inUse := nic(1)
		inUse.NetworkInterfaceId = own.NetworkInterfaceId
		publicOn1 := withSub(nic(1))
		publicOn1.AssociatePublicIpAddress = aws.Bool(true)
		free := f.create(t, &ec2.CreateNetworkInterfaceInput{})
		freeNIC := nic(1)
		freeNIC.NetworkInterfaceId = free.NetworkInterfaceId
		for name, c := range map[string]struct {
			it    types.InstanceType
			count int32
			nics  []types.InstanceNetworkInterfaceSpecification
			code  string
		}{
			"over the type's limit": {types.InstanceTypeT3Micro, 1, []types.InstanceNetworkInterfaceSpecification{withSub(nic(0)), withSub(nic(1)), withSub(nic(2))}, "AttachmentLimitExceeded"},
			"same device index":     {types.InstanceTypeM5Large, 1, []types.InstanceNetworkInterfaceSpecification{withSub(nic(0)), withSub(nic(0))}, "InvalidParameterValue"},
			"no device 0":           {types.InstanceTypeM5Large, 1, []types.InstanceNetworkInterfaceSpecification{withSub(nic(1)), withSub(nic(2))}, "InvalidParameterValue"},
			"public on device 1":    {types.InstanceTypeM5Large, 1, []types.InstanceNetworkInterfaceSpecification{withSub(nic(0)), publicOn1}, "InvalidParameterCombination"},
			"interface in use":      {types.InstanceTypeM5Large, 1, []types.InstanceNetworkInterfaceSpecification{withSub(nic(0)), inUse}, "InvalidNetworkInterface.InUse"},
			"another zone":          {types.InstanceTypeM5Large, 1, []types.InstanceNetworkInterfaceSpecification{withSub(nic(0)), inB}, "InvalidParameterCombination"},
			"several instances":     {types.InstanceTypeM5Large, 2, []types.InstanceNetworkInterfaceSpecification{withSub(nic(0)), freeNIC}, "InvalidParameterValue"},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := f.c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: &f.img, InstanceType: c.it, MinCount: aws.Int32(c.count), MaxCount: aws.Int32(c.count),
					NetworkInterfaces: c.nics})
				wantClientError(t, err, c.code)
			})
		}
		if e := f.get(t, *free.NetworkInterfaceId); e.Status != types.NetworkInterfaceStatusAvailable {
			t.Errorf("a refused launch attached %s", *free.NetworkInterfaceId)
		}

		// AttachNetworkInterface: a high device index within the count is fine.
		m5 := *run(t, f.c, &ec2.RunInstancesInput{ImageId: &f.img, InstanceType: types.InstanceTypeM5Large, SubnetId: &f.sub}).Instances[0].InstanceId
		observe(t, f.srv, f.a.ID, m5, "running", "running")
		if _, err := f.c.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: free.NetworkInterfaceId, InstanceId: &m5, DeviceIndex: aws.Int32(7)}); err != nil {
			t.Fatalf("attach at device index 7 of an m5.large with one interface: %v", err)
		}
	})
}
