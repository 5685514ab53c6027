package ec2_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// Auto-assigned public IPs (MapPublicIpOnLaunch). The test pool is
// 192.0.2.1-6, shared with elastic IPs.

// launchPublic runs one instance with NetworkInterface.1 as given (nil:
// no interface spec, the subnet decides) and returns it as RunInstances
// answered.
func launchPublic(t *testing.T, c *ec2.Client, img, subnet string, associate *bool) types.Instance {
	t.Helper()
	in := &ec2.RunInstancesInput{ImageId: &img}
	switch {
	case associate != nil:
		n := types.InstanceNetworkInterfaceSpecification{DeviceIndex: aws.Int32(0), AssociatePublicIpAddress: associate}
		if subnet != "" {
			n.SubnetId = &subnet
		}
		in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{n}
	case subnet != "":
		in.SubnetId = &subnet
	}
	return run(t, c, in).Instances[0]
}

// publicIPOf is an instance's PublicIpAddress ("" when none).
func publicIPOf(t *testing.T, c *ec2.Client, id string) string {
	t.Helper()
	return aws.ToString(instanceOf(t, c, id).PublicIpAddress)
}

// nodeMapping is the public address the node is told for an interface
// (what nodeserver's desired state reads).
func nodeMapping(t *testing.T, srv *controllertest.Server, eni string) []string {
	t.Helper()
	var out []string
	storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) error {
		list, err := tx.NetworkInterfaceAddresses(ctx, eni)
		for _, a := range list {
			out = append(out, a.PublicIP+">"+a.PrivateIP)
		}
		return err
	})
	return out
}

func newVPCSubnet(t *testing.T, c *ec2.Client, vpcCIDR, cidr string) string {
	t.Helper()
	ctx := context.Background()
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: &vpcCIDR})
	if err != nil {
		t.Fatal(err)
	}
	sn, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: &cidr})
	if err != nil {
		t.Fatal(err)
	}
	return *sn.Subnet.SubnetId
}

func TestPublicIPOnLaunch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newEIPFixture(t, b)
		c := f.a.EC2

		// Default subnets map public IPs on launch, as in AWS.
		subs, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{flt("default-for-az", "true")}})
		if err != nil || len(subs.Subnets) == 0 || !*subs.Subnets[0].MapPublicIpOnLaunch {
			t.Fatalf("default subnets: %+v %v", subs, err)
		}
		launched := launchPublic(t, c, f.img, "", nil)
		id := *launched.InstanceId
		if aws.ToString(launched.PublicIpAddress) != "192.0.2.1" {
			t.Fatalf("RunInstances shows public IP %q", aws.ToString(launched.PublicIpAddress))
		}
		inst := instanceOf(t, c, id)
		ni := inst.NetworkInterfaces[0]
		if aws.ToString(inst.PublicIpAddress) != "192.0.2.1" || *inst.PublicDnsName != "ec2-192-0-2-1.kumo-1.compute.kumo" ||
			ni.Association == nil || *ni.Association.PublicIp != "192.0.2.1" || *ni.Association.IpOwnerId != "amazon" ||
			ni.PrivateIpAddresses[0].Association == nil || *ni.PrivateIpAddresses[0].Association.IpOwnerId != "amazon" {
			t.Fatalf("instance with an auto-assigned public IP: %+v", inst)
		}
		if got := describeInstances(t, c, flt("ip-address", "192.0.2.1")); len(got) != 1 || *got[0].InstanceId != id {
			t.Fatalf("ip-address filter matched %d", len(got))
		}
		// The interface shows it too, without allocation or association ids.
		nis, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{*ni.NetworkInterfaceId}})
		if err != nil || len(nis.NetworkInterfaces) != 1 || nis.NetworkInterfaces[0].Association == nil {
			t.Fatalf("DescribeNetworkInterfaces: %+v %v", nis, err)
		}
		if as := nis.NetworkInterfaces[0].Association; *as.PublicIp != "192.0.2.1" || *as.IpOwnerId != "amazon" || as.AllocationId != nil || as.AssociationId != nil {
			t.Fatalf("interface association %+v", as)
		}
		// Not an elastic IP.
		if l := describeAddresses(t, c, &ec2.DescribeAddressesInput{}); len(l) != 0 {
			t.Fatalf("DescribeAddresses shows %+v", l)
		}
		_, err = c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{PublicIps: []string{"192.0.2.1"}})
		wantClientError(t, err, "InvalidAddress.NotFound")
		// The node maps it as it maps an elastic IP.
		if m := nodeMapping(t, f.srv, *ni.NetworkInterfaceId); !slices.Equal(m, []string{"192.0.2.1>" + *inst.PrivateIpAddress}) {
			t.Fatalf("node mapping %v", m)
		}
		// The pool does not hand it out again.
		_, err = c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Address: aws.String("192.0.2.1")})
		wantClientError(t, err, "InvalidIPAddress.InUse")
		if e := allocate(t, c); *e.PublicIp != "192.0.2.2" {
			t.Fatalf("allocated %s", *e.PublicIp)
		}

		// AssociatePublicIpAddress=false overrides the subnet.
		off := launchPublic(t, c, f.img, "", aws.Bool(false))
		if got := instanceOf(t, c, *off.InstanceId); got.PublicIpAddress != nil || got.NetworkInterfaces[0].Association != nil {
			t.Fatalf("public IP despite AssociatePublicIpAddress=false: %+v", got)
		}

		// A new subnet does not map; AssociatePublicIpAddress=true asks anyway.
		sn := newVPCSubnet(t, c, "10.7.0.0/16", "10.7.1.0/24")
		if plain := launchPublic(t, c, f.img, sn, nil); publicIPOf(t, c, *plain.InstanceId) != "" {
			t.Fatal("public IP in a subnet that does not map them")
		}
		if on := launchPublic(t, c, f.img, sn, aws.Bool(true)); publicIPOf(t, c, *on.InstanceId) != "192.0.2.3" {
			t.Fatalf("AssociatePublicIpAddress=true: %q", publicIPOf(t, c, *on.InstanceId))
		}
		// ModifySubnetAttribute turns the subnet's mapping on.
		if _, err := c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: &sn,
			MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
			t.Fatal(err)
		}
		got, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{flt("map-public-ip-on-launch", "true")}})
		if err != nil || !slices.ContainsFunc(got.Subnets, func(s types.Subnet) bool { return *s.SubnetId == sn && *s.MapPublicIpOnLaunch }) {
			t.Fatalf("DescribeSubnets after ModifySubnetAttribute: %+v %v", got, err)
		}
		if mapped := launchPublic(t, c, f.img, sn, nil); publicIPOf(t, c, *mapped.InstanceId) != "192.0.2.4" {
			t.Fatalf("launch into the mapping subnet: %q", publicIPOf(t, c, *mapped.InstanceId))
		}
	})
}

func TestPublicIPStopStartTerminate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newEIPFixture(t, b)
		c := f.a.EC2
		id := *launchPublic(t, c, f.img, "", nil).InstanceId
		observe(t, f.srv, f.a.ID, id, "running", "running")
		if ip := publicIPOf(t, c, id); ip != "192.0.2.1" {
			t.Fatalf("launched with %q", ip)
		}
		// Stop releases it at once.
		if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
		inst := instanceOf(t, c, id)
		if inst.PublicIpAddress != nil || *inst.PublicDnsName != "" || inst.NetworkInterfaces[0].Association != nil {
			t.Fatalf("stopping instance keeps its public IP: %+v", inst)
		}
		observe(t, f.srv, f.a.ID, id, "stopped", "stopped")
		e := allocate(t, c) // takes the released address
		if *e.PublicIp != "192.0.2.1" {
			t.Fatalf("released address not reused: %s", *e.PublicIp)
		}
		// Start assigns a new one.
		if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
		if ip := publicIPOf(t, c, id); ip != "192.0.2.2" {
			t.Fatalf("started with %q", ip)
		}
		observe(t, f.srv, f.a.ID, id, "running", "running")

		// A stop the guest made (no API call) lapses it too; the next
		// allocation returns it to the pool.
		observe(t, f.srv, f.a.ID, id, "stopped", "stopped")
		if ip := publicIPOf(t, c, id); ip != "" {
			t.Fatalf("stopped instance shows %s", ip)
		}
		if e := allocate(t, c); *e.PublicIp != "192.0.2.2" {
			t.Fatalf("lapsed address not reused: %s", *e.PublicIp)
		}
		if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
		if ip := publicIPOf(t, c, id); ip != "192.0.2.3" {
			t.Fatalf("started again with %q", ip)
		}

		// Terminate returns it to the pool.
		if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
		if ip := publicIPOf(t, c, id); ip != "" {
			t.Fatalf("terminating instance shows %s", ip)
		}
		if e := allocate(t, c); *e.PublicIp != "192.0.2.3" {
			t.Fatalf("terminated instance's address not reused: %s", *e.PublicIp)
		}
		// Launched without one: a start gives none.
		off := *launchPublic(t, c, f.img, "", aws.Bool(false)).InstanceId
		observe(t, f.srv, f.a.ID, off, "stopped", "stopped")
		if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{off}}); err != nil {
			t.Fatal(err)
		}
		if ip := publicIPOf(t, c, off); ip != "" {
			t.Fatalf("instance launched without a public IP got %s", ip)
		}
	})
}

func TestPublicIPPoolExhaustion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newEIPFixture(t, b)
		c := f.a.EC2
		id := *launchPublic(t, c, f.img, "", nil).InstanceId // 192.0.2.1
		observe(t, f.srv, f.a.ID, id, "running", "running")
		for range 4 {
			allocate(t, c) // .2-.5
		}
		last := *launchPublic(t, c, f.img, "", nil).InstanceId // .6
		before := len(describeInstances(t, c))
		noRetry := func(o *ec2.Options) { o.RetryMaxAttempts = 1 }

		_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: &f.img, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}, noRetry)
		wantCode(t, err, "InsufficientAddressCapacity")
		_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: &f.img, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), AssociatePublicIpAddress: aws.Bool(true)}}}, noRetry)
		wantCode(t, err, "InsufficientAddressCapacity")
		if n := len(describeInstances(t, c)); n != before {
			t.Fatalf("a failed launch left %d instances, want %d", n, before)
		}
		// Without a public IP the launch fits.
		launchPublic(t, c, f.img, "", aws.Bool(false))

		// A batch that cannot all have one creates nothing either.
		if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{last}}); err != nil {
			t.Fatal(err)
		}
		before = len(describeInstances(t, c))
		_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: &f.img, MinCount: aws.Int32(2), MaxCount: aws.Int32(2)}, noRetry)
		wantCode(t, err, "InsufficientAddressCapacity")
		if n := len(describeInstances(t, c)); n != before {
			t.Fatalf("a failed batch left %d instances, want %d", n, before)
		}

		// A start that finds the pool empty fails and the instance stays stopped.
		if _, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
		observe(t, f.srv, f.a.ID, id, "stopped", "stopped")
		launchPublic(t, c, f.img, "", nil) // takes .1
		launchPublic(t, c, f.img, "", nil) // takes .6
		_, err = c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}, noRetry)
		wantCode(t, err, "InsufficientAddressCapacity")
		if st := stateOf(t, c, id); st != "stopped" {
			t.Fatalf("instance %s after a failed start", st)
		}
	})
}

func TestPublicIPReplacedByElasticIP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newEIPFixture(t, b)
		c := f.a.EC2
		i1 := *launchPublic(t, c, f.img, "", nil).InstanceId // .1
		i2 := *launchPublic(t, c, f.img, "", nil).InstanceId // .2
		eni := *instanceOf(t, c, i1).NetworkInterfaces[0].NetworkInterfaceId
		e := allocate(t, c) // .3
		assoc := associate(t, c, &ec2.AssociateAddressInput{AllocationId: e.AllocationId, InstanceId: &i1})
		inst := instanceOf(t, c, i1)
		if aws.ToString(inst.PublicIpAddress) != "192.0.2.3" || *inst.NetworkInterfaces[0].Association.IpOwnerId != f.a.ID {
			t.Fatalf("elastic IP did not replace the public IP: %+v", inst)
		}
		if m := nodeMapping(t, f.srv, eni); len(m) != 1 || m[0] != "192.0.2.3>"+*inst.PrivateIpAddress {
			t.Fatalf("node mapping %v", m)
		}
		if got := allocate(t, c); *got.PublicIp != "192.0.2.1" {
			t.Fatalf("replaced public IP not back in the pool: %s", *got.PublicIp)
		}
		// Disassociating gives the instance a new public IP.
		if _, err := c.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: &assoc}); err != nil {
			t.Fatal(err)
		}
		if ip := publicIPOf(t, c, i1); ip != "192.0.2.4" {
			t.Fatalf("after disassociation: %q", ip)
		}
		// Moving an elastic IP away gives the instance it leaves a new one.
		associate(t, c, &ec2.AssociateAddressInput{AllocationId: e.AllocationId, InstanceId: &i2})
		if ip := publicIPOf(t, c, i2); ip != "192.0.2.3" {
			t.Fatalf("i2 shows %q", ip)
		}
		associate(t, c, &ec2.AssociateAddressInput{AllocationId: e.AllocationId, InstanceId: &i1, AllowReassociation: aws.Bool(true)})
		if ip1, ip2 := publicIPOf(t, c, i1), publicIPOf(t, c, i2); ip1 != "192.0.2.3" || ip2 != "192.0.2.2" {
			t.Fatalf("after the move: i1 %q, i2 %q", ip1, ip2)
		}
		// Releasing it in the default VPC disassociates it: a new public IP again.
		if _, err := c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: e.AllocationId}); err != nil {
			t.Fatal(err)
		}
		if ip := publicIPOf(t, c, i1); ip != "192.0.2.3" {
			t.Fatalf("after release: %q", ip)
		}
		if l := describeAddresses(t, c, &ec2.DescribeAddressesInput{}); len(l) != 1 || *l[0].PublicIp != "192.0.2.1" {
			t.Fatalf("DescribeAddresses %+v", l)
		}
	})
}

func TestPublicIPConcurrentLaunchesNeverShareAnAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := newEIPFixture(t, b)
		accounts := []*controllertest.Account{f.a, f.srv.NewAccount(t, "b"), f.srv.NewAccount(t, "c")}
		errs := make(chan error, 12)
		for _, acc := range accounts {
			for n := range 4 {
				go func() {
					var err error
					if n%2 == 0 {
						_, err = acc.EC2.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: &f.img, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)},
							func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
					} else {
						_, err = acc.EC2.AllocateAddress(context.Background(), &ec2.AllocateAddressInput{}, func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
					}
					errs <- err
				}()
			}
		}
		ok := 0
		for range 12 {
			if err := <-errs; err != nil {
				wantCode(t, err, "InsufficientAddressCapacity")
				continue
			}
			ok++
		}
		if ok != 6 {
			t.Fatalf("%d of 12 requests got an address from a pool of 6", ok)
		}
		seen := map[string]bool{}
		for _, acc := range accounts {
			var ips []string
			for _, a := range describeAddresses(t, acc.EC2, &ec2.DescribeAddressesInput{}) {
				ips = append(ips, *a.PublicIp)
			}
			for _, i := range describeInstances(t, acc.EC2) {
				ips = append(ips, aws.ToString(i.PublicIpAddress))
			}
			for _, ip := range ips {
				if ip == "" || seen[ip] {
					t.Fatalf("address %q missing or handed out twice", ip)
				}
				seen[ip] = true
			}
		}
	})
}

func TestModifySubnetAttributeErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newEIPFixture(t, b)
		c := f.a.EC2
		sn := newVPCSubnet(t, c, "10.8.0.0/16", "10.8.1.0/24")
		other := newVPCSubnet(t, f.srv.NewAccount(t, "b").EC2, "10.8.0.0/16", "10.8.2.0/24")
		on := &types.AttributeBooleanValue{Value: aws.Bool(true)}
		off := &types.AttributeBooleanValue{Value: aws.Bool(false)}
		for _, tc := range []struct {
			in   ec2.ModifySubnetAttributeInput
			code string
		}{
			{ec2.ModifySubnetAttributeInput{SubnetId: aws.String(""), MapPublicIpOnLaunch: on}, "MissingParameter"},
			{ec2.ModifySubnetAttributeInput{SubnetId: aws.String("subnet-xyz"), MapPublicIpOnLaunch: on}, "InvalidSubnetID.Malformed"},
			{ec2.ModifySubnetAttributeInput{SubnetId: aws.String("subnet-0123456789abcdef0"), MapPublicIpOnLaunch: on}, "InvalidSubnetID.NotFound"},
			{ec2.ModifySubnetAttributeInput{SubnetId: &other, MapPublicIpOnLaunch: on}, "InvalidSubnetID.NotFound"},
			{ec2.ModifySubnetAttributeInput{SubnetId: &sn}, "InvalidParameterCombination"},
			{ec2.ModifySubnetAttributeInput{SubnetId: &sn, MapPublicIpOnLaunch: on, EnableDns64: off}, "InvalidParameterCombination"},
			// An attribute without a value does not reach the wire: none at all.
			{ec2.ModifySubnetAttributeInput{SubnetId: &sn, MapPublicIpOnLaunch: &types.AttributeBooleanValue{}}, "InvalidParameterCombination"},
			{ec2.ModifySubnetAttributeInput{SubnetId: &sn, AssignIpv6AddressOnCreation: on}, "UnsupportedOperation"},
			{ec2.ModifySubnetAttributeInput{SubnetId: &sn, MapCustomerOwnedIpOnLaunch: on}, "UnsupportedOperation"},
			{ec2.ModifySubnetAttributeInput{SubnetId: &sn, EnableResourceNameDnsARecordOnLaunch: on}, "UnsupportedOperation"},
			{ec2.ModifySubnetAttributeInput{SubnetId: &sn, EnableLniAtDeviceIndex: aws.Int32(1)}, "UnsupportedOperation"},
			{ec2.ModifySubnetAttributeInput{SubnetId: &sn, PrivateDnsHostnameTypeOnLaunch: types.HostnameTypeResourceName}, "UnsupportedOperation"},
			{ec2.ModifySubnetAttributeInput{SubnetId: &sn, PrivateDnsHostnameTypeOnLaunch: "bogus"}, "InvalidParameterValue"},
		} {
			_, err := c.ModifySubnetAttribute(ctx, &tc.in)
			wantClientError(t, err, tc.code)
		}
		// Attributes left at the only value Kumo has are accepted.
		for _, in := range []ec2.ModifySubnetAttributeInput{
			{SubnetId: &sn, AssignIpv6AddressOnCreation: off},
			{SubnetId: &sn, EnableDns64: off},
			{SubnetId: &sn, PrivateDnsHostnameTypeOnLaunch: types.HostnameTypeIpName},
		} {
			if _, err := c.ModifySubnetAttribute(ctx, &in); err != nil {
				t.Fatalf("%+v: %v", in, err)
			}
		}
		// Turning a default subnet's mapping off stops its public IPs.
		def, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{flt("default-for-az", "true")}})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range def.Subnets {
			if _, err := c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: s.SubnetId, MapPublicIpOnLaunch: off}); err != nil {
				t.Fatal(err)
			}
		}
		if id := *launchPublic(t, c, f.img, "", nil).InstanceId; publicIPOf(t, c, id) != "" {
			t.Fatal("public IP from a default subnet whose mapping is off")
		}
	})
}
