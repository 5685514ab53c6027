package ec2_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func rsaAuthorizedKey(t *testing.T) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return ssh.MarshalAuthorizedKey(pub) // "ssh-rsa AAAA...\n"; the SDK sends it base64-encoded
}

func tfReadKeyPair(t *testing.T, c *ec2.Client, name string) types.KeyPairInfo {
	t.Helper()
	o, err := c.DescribeKeyPairs(context.Background(), &ec2.DescribeKeyPairsInput{KeyNames: []string{name}})
	step(t, "DescribeKeyPairs KeyName.1", err)
	return onlyOne(t, "DescribeKeyPairs KeyName.1", name, o.KeyPairs, func(k types.KeyPairInfo) *string { return k.KeyName })
}

// tfImportKeyPair is aws_key_pair's create: ImportKeyPair with the OpenSSH
// ssh-rsa line and its tags, then the Read.
func tfImportKeyPair(t *testing.T, c *ec2.Client, name string) types.KeyPairInfo {
	t.Helper()
	_, err := c.ImportKeyPair(context.Background(), &ec2.ImportKeyPairInput{KeyName: &name, PublicKeyMaterial: rsaAuthorizedKey(t),
		TagSpecifications: tagSpec(types.ResourceTypeKeyPair, "Name", name)})
	step(t, "ImportKeyPair", err)
	return tfReadKeyPair(t, c, name)
}

// TestTerraformKeyPairCalls replays aws_key_pair: ImportKeyPair, the Read
// twice, a tag update on the key- ID, DeleteKeyPair and the NotFound.
func TestTerraformKeyPairCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		a := srv.NewAccount(t, "a")
		tfImportKeyPair(t, a.EC2, "other") // KeyName.1 must not answer another key (§0.2)
		k := tfImportKeyPair(t, a.EC2, "deployer")
		if aws.ToString(k.KeyPairId) == "" || aws.ToString(k.KeyFingerprint) == "" || k.KeyType != types.KeyTypeRsa {
			t.Errorf("DescribeKeyPairs: %+v", k)
		}
		wantTags(t, "key pair", k.Tags, map[string]string{"Name": "deployer"})
		sameRead(t, "aws_key_pair Read", k, tfReadKeyPair(t, a.EC2, "deployer"))

		id := aws.ToString(k.KeyPairId)
		_, err := a.EC2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("deployer")}}})
		step(t, "DeleteTags key-", err)
		_, err = a.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("Owner"), Value: aws.String("ops")}}})
		step(t, "CreateTags key-", err)
		wantTags(t, "key pair after update", tfReadKeyPair(t, a.EC2, "deployer").Tags, map[string]string{"Owner": "ops"})

		_, err = a.EC2.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("deployer")})
		step(t, "DeleteKeyPair", err)
		_, err = a.EC2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"deployer"}})
		wantClientError(t, err, "InvalidKeyPair.NotFound")
	})
}

// tfNet is the network an aws_instance lands in.
type tfNet struct{ vpc, subnet, sg, key string }

func tfNetwork(t *testing.T, c *ec2.Client) tfNet {
	t.Helper()
	vpc := tfCreateVPC(t, c, "10.0.0.0/16")
	sub, err := c.CreateSubnet(context.Background(), &ec2.CreateSubnetInput{VpcId: &vpc, CidrBlock: aws.String("10.0.1.0/24"), AvailabilityZone: aws.String("kumo-1a")})
	step(t, "CreateSubnet", err)
	sg := tfCreateSG(t, c, vpc, "web", "web")
	tfImportKeyPair(t, c, "deployer")
	return tfNet{vpc: vpc, subnet: aws.ToString(sub.Subnet.SubnetId), sg: sg, key: "deployer"}
}

// tfRunInstance is aws_instance's RunInstances with every parameter the
// provider sends, among them an empty Placement.AvailabilityZone and, for
// t3, CreditSpecification.CpuCredits=unlimited.
func tfRunInstance(t *testing.T, c *ec2.Client, img, userData string, n tfNet) string {
	t.Helper()
	out := run(t, c, &ec2.RunInstancesInput{ImageId: &img, InstanceType: types.InstanceTypeT3Micro,
		SubnetId: &n.subnet, SecurityGroupIds: []string{n.sg}, KeyName: &n.key, UserData: &userData,
		ClientToken:           aws.String("terraform-20261207170000000000000001"),
		Placement:             &types.Placement{AvailabilityZone: aws.String("")},
		DisableApiTermination: aws.Bool(false), EbsOptimized: aws.Bool(false),
		Monitoring:          &types.RunInstancesMonitoringEnabled{Enabled: aws.Bool(false)},
		HibernationOptions:  &types.HibernationOptionsRequest{Configured: aws.Bool(false)},
		CreditSpecification: &types.CreditSpecificationRequest{CpuCredits: aws.String("unlimited")},
		TagSpecifications:   tagSpec(types.ResourceTypeInstance, "Name", "tf")})
	if len(out.Instances) != 1 || aws.ToString(out.Instances[0].InstanceId) == "" {
		t.Fatalf("RunInstances instancesSet: %+v", out.Instances)
	}
	// The waiter polls from pending to running and fails on anything else.
	if s := stateOf(t, c, aws.ToString(out.Instances[0].InstanceId)); s != "pending" && s != "running" {
		t.Fatalf("state after RunInstances: %s", s)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

func tfReadInstance(t *testing.T, c *ec2.Client, id string) types.Instance {
	t.Helper()
	o, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	step(t, "DescribeInstances InstanceId.1", err)
	if len(o.Reservations) != 1 || len(o.Reservations[0].Instances) != 1 || aws.ToString(o.Reservations[0].Instances[0].InstanceId) != id {
		t.Fatalf("DescribeInstances InstanceId.1=%s answered %+v", id, o.Reservations)
	}
	return o.Reservations[0].Instances[0]
}

// instanceRead is everything aws_instance's Read gathers but the volumes.
type instanceRead struct {
	Instance                   types.Instance
	Burstable                  bool
	VPCDefault                 bool
	Shutdown, UserData         string
	DisableStop, DisableTermin bool
}

// tfInstanceRead runs the Read's calls in order; step 6 (DescribeVolumes of
// the block devices) and step 9 (credit specifications) are run by the
// caller.
func tfInstanceRead(t *testing.T, c *ec2.Client, id string) instanceRead {
	t.Helper()
	ctx := context.Background()
	r := instanceRead{Instance: tfReadInstance(t, c, id)}
	it, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{r.Instance.InstanceType}})
	step(t, "DescribeInstanceTypes InstanceType.1", err)
	if len(it.InstanceTypes) != 1 {
		t.Fatalf("DescribeInstanceTypes %s: %+v", r.Instance.InstanceType, it.InstanceTypes)
	}
	r.Burstable = aws.ToBool(it.InstanceTypes[0].BurstablePerformanceSupported)
	tags, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{flt("resource-id", id), flt("key", "aws:ec2launchtemplate:id")}})
	step(t, "DescribeTags resource-id key=aws:ec2launchtemplate:id", err)
	if len(tags.Tags) != 0 {
		t.Errorf("DescribeTags launch template of an instance launched without one: %+v", tags.Tags)
	}
	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{aws.ToString(r.Instance.VpcId)}})
	step(t, "DescribeVpcs (the instance's)", err)
	if len(vpcs.Vpcs) != 1 {
		t.Fatalf("DescribeVpcs %s: %+v", aws.ToString(r.Instance.VpcId), vpcs.Vpcs)
	}
	r.VPCDefault = aws.ToBool(vpcs.Vpcs[0].IsDefault)
	attr := func(name types.InstanceAttributeName) *ec2.DescribeInstanceAttributeOutput {
		o, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: &id, Attribute: name})
		step(t, "DescribeInstanceAttribute "+string(name), err)
		return o
	}
	if o := attr(types.InstanceAttributeNameInstanceInitiatedShutdownBehavior); o.InstanceInitiatedShutdownBehavior != nil {
		r.Shutdown = aws.ToString(o.InstanceInitiatedShutdownBehavior.Value)
	}
	if o := attr(types.InstanceAttributeNameDisableApiStop); o.DisableApiStop != nil {
		r.DisableStop = aws.ToBool(o.DisableApiStop.Value)
	}
	if o := attr(types.InstanceAttributeNameDisableApiTermination); o.DisableApiTermination != nil {
		r.DisableTermin = aws.ToBool(o.DisableApiTermination.Value)
	}
	if o := attr(types.InstanceAttributeNameUserData); o.UserData != nil {
		r.UserData = aws.ToString(o.UserData.Value)
	}
	return r
}

func checkInstance(t *testing.T, r instanceRead, n tfNet, img, userData string, typ types.InstanceType) {
	t.Helper()
	i := r.Instance
	if i.State == nil || i.State.Name != types.InstanceStateNameRunning || aws.ToString(i.ImageId) != img || i.InstanceType != typ ||
		aws.ToString(i.KeyName) != n.key || aws.ToString(i.SubnetId) != n.subnet || aws.ToString(i.VpcId) != n.vpc ||
		aws.ToString(i.PrivateIpAddress) == "" || aws.ToBool(i.EbsOptimized) || !aws.ToBool(i.SourceDestCheck) {
		t.Errorf("DescribeInstances: %+v", i)
	}
	if p := i.Placement; p == nil || aws.ToString(p.AvailabilityZone) != "kumo-1a" || p.Tenancy != types.TenancyDefault {
		t.Errorf("placement: %+v, want kumo-1a (the subnet's) and tenancy default", p)
	}
	if i.Monitoring == nil || i.Monitoring.State != types.MonitoringStateDisabled {
		t.Errorf("monitoring: %+v", i.Monitoring)
	}
	if i.HibernationOptions == nil || aws.ToBool(i.HibernationOptions.Configured) {
		t.Errorf("hibernationOptions: %+v, want configured=false", i.HibernationOptions)
	}
	if m := i.MetadataOptions; m == nil || m.HttpTokens == "" || m.HttpEndpoint == "" || m.HttpPutResponseHopLimit == nil {
		t.Errorf("metadataOptions: %+v", m)
	}
	if i.CpuOptions == nil || i.CapacityReservationSpecification == nil || i.EnclaveOptions == nil || i.MaintenanceOptions == nil ||
		i.PrivateDnsNameOptions == nil || aws.ToString(i.RootDeviceName) == "" || aws.ToString(i.SpotInstanceRequestId) != "" {
		t.Errorf("cpuOptions %+v capacityReservationSpecification %+v enclaveOptions %+v maintenanceOptions %+v privateDnsNameOptions %+v rootDeviceName %q",
			i.CpuOptions, i.CapacityReservationSpecification, i.EnclaveOptions, i.MaintenanceOptions, i.PrivateDnsNameOptions, aws.ToString(i.RootDeviceName))
	}
	if len(i.SecurityGroups) != 1 || aws.ToString(i.SecurityGroups[0].GroupId) != n.sg {
		t.Errorf("groupSet: %+v, want %s", i.SecurityGroups, n.sg)
	}
	if len(i.NetworkInterfaces) != 1 {
		t.Fatalf("networkInterfaceSet: %+v", i.NetworkInterfaces)
	}
	ni := i.NetworkInterfaces[0]
	if ni.Attachment == nil || aws.ToInt32(ni.Attachment.DeviceIndex) != 0 || aws.ToString(ni.SubnetId) != n.subnet ||
		aws.ToString(ni.NetworkInterfaceId) == "" || !aws.ToBool(ni.SourceDestCheck) || len(ni.PrivateIpAddresses) != 1 ||
		aws.ToString(ni.PrivateIpAddress) != aws.ToString(i.PrivateIpAddress) {
		t.Errorf("networkInterfaceSet[0]: %+v", ni)
	}
	wantTags(t, "instance", i.Tags, map[string]string{"Name": "tf"})
	if !r.Burstable {
		t.Errorf("DescribeInstanceTypes %s: burstablePerformanceSupported false", typ)
	}
	if r.VPCDefault || r.Shutdown != "stop" || r.DisableStop || r.DisableTermin || r.UserData != userData {
		t.Errorf("read: default VPC %v, shutdown %q, disableApiStop %v, disableApiTermination %v, userData %q (want %q)",
			r.VPCDefault, r.Shutdown, r.DisableStop, r.DisableTermin, r.UserData, userData)
	}
}

// TestTerraformInstanceFullCalls replays aws_instance in a VPC subnet with a
// security group and a key pair: RunInstances with the provider's
// parameters, the Read twice without a diff (its DescribeVolumes of the
// root volume too), the credit specification read and
// modify, the instance-type update (stop, modify, start), a tag update,
// and the delete.
func TestTerraformInstanceFullCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 8, 16384)
		a := srv.NewAccount(t, "a")
		n := tfNetwork(t, a.EC2)
		userData := base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho hello > /tmp/hi\n"))
		id := tfRunInstance(t, a.EC2, img, userData, n)
		observe(t, srv, a.ID, id, "running", "running") // the node reports it running
		r := tfInstanceRead(t, a.EC2, id)
		checkInstance(t, r, n, img, userData, types.InstanceTypeT3Micro)
		sameRead(t, "aws_instance Read", r, tfInstanceRead(t, a.EC2, id))

		t.Run("DescribeVolumes of the block devices", func(t *testing.T) {
			var vols []string
			for _, m := range r.Instance.BlockDeviceMappings {
				if m.Ebs != nil {
					vols = append(vols, aws.ToString(m.Ebs.VolumeId))
				}
			}
			if len(vols) != 1 {
				t.Fatalf("an EBS-backed instance maps its root volume: %+v", r.Instance.BlockDeviceMappings)
			}
			o, err := a.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: vols})
			step(t, "DescribeVolumes VolumeId.N", err)
			if len(o.Volumes) != len(vols) || aws.ToInt32(o.Volumes[0].Size) == 0 || o.Volumes[0].VolumeType == "" || aws.ToBool(o.Volumes[0].Encrypted) ||
				len(o.Volumes[0].Attachments) != 1 || aws.ToString(o.Volumes[0].Attachments[0].InstanceId) != id ||
				!aws.ToBool(o.Volumes[0].Attachments[0].DeleteOnTermination) || o.Volumes[0].State != types.VolumeStateInUse {
				t.Errorf("DescribeVolumes %v: %+v", vols, o.Volumes)
			}
		})
		t.Run("DescribeInstanceCreditSpecifications", func(t *testing.T) {
			o, err := a.EC2.DescribeInstanceCreditSpecifications(ctx, &ec2.DescribeInstanceCreditSpecificationsInput{InstanceIds: []string{id}})
			step(t, "DescribeInstanceCreditSpecifications", err)
			if len(o.InstanceCreditSpecifications) != 1 || aws.ToString(o.InstanceCreditSpecifications[0].CpuCredits) != "unlimited" {
				t.Errorf("credit specification after RunInstances with unlimited: %+v", o.InstanceCreditSpecifications)
			}
			_, err = a.EC2.ModifyInstanceCreditSpecification(ctx, &ec2.ModifyInstanceCreditSpecificationInput{
				InstanceCreditSpecifications: []types.InstanceCreditSpecificationRequest{{InstanceId: &id, CpuCredits: aws.String("standard")}}})
			step(t, "ModifyInstanceCreditSpecification", err)
		})

		// Update: tags, then the instance type (stop, wait stopped, modify, start, wait running).
		_, err := a.EC2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("tf")}}})
		step(t, "DeleteTags i-", err)
		_, err = a.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("tf")}, {Key: aws.String("Role"), Value: aws.String("web")}}})
		step(t, "CreateTags i-", err)
		_, err = a.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}, Force: aws.Bool(false)})
		step(t, "StopInstances Force=false", err)
		if s := stateOf(t, a.EC2, id); s != "stopping" && s != "stopped" {
			t.Fatalf("state after StopInstances: %s, want stopping (the waiter fails on anything else)", s)
		}
		observe(t, srv, a.ID, id, "stopped", "stopped")
		if s := stateOf(t, a.EC2, id); s != "stopped" {
			t.Fatalf("state after stop: %s", s)
		}
		_, err = a.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, InstanceType: &types.AttributeValue{Value: aws.String("t3.small")}})
		step(t, "ModifyInstanceAttribute InstanceType.Value", err)
		_, err = a.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
		step(t, "StartInstances", err)
		if s := stateOf(t, a.EC2, id); s != "pending" && s != "running" {
			t.Fatalf("state after start: %s, want pending (the waiter fails on anything else)", s)
		}
		observe(t, srv, a.ID, id, "running", "running")
		r2 := tfInstanceRead(t, a.EC2, id)
		if r2.Instance.InstanceType != types.InstanceTypeT3Small || r2.UserData != userData || aws.ToString(r2.Instance.PrivateIpAddress) != aws.ToString(r.Instance.PrivateIpAddress) {
			t.Errorf("after the type update: type %s, userData %q, private IP %s (was %s)", r2.Instance.InstanceType, r2.UserData,
				aws.ToString(r2.Instance.PrivateIpAddress), aws.ToString(r.Instance.PrivateIpAddress))
		}
		wantTags(t, "instance after update", r2.Instance.Tags, map[string]string{"Name": "tf", "Role": "web"})
		sameRead(t, "aws_instance Read after update", r2, tfInstanceRead(t, a.EC2, id))

		// Delete: termination protection off (only logged), terminate, until terminated.
		_, err = a.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(false)}})
		if err != nil {
			t.Logf("ModifyInstanceAttribute DisableApiTermination=false (tolerated): %v", err)
		}
		_, err = a.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
		step(t, "TerminateInstances", err)
		if s := stateOf(t, a.EC2, id); s != "shutting-down" && s != "terminated" {
			t.Fatalf("state after terminate: %s", s)
		}
		observe(t, srv, a.ID, id, "terminated", "deleted")
		if s := stateOf(t, a.EC2, id); s != "terminated" {
			t.Fatalf("state after the node's report: %s", s)
		}
		_, err = a.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
		wantClientError(t, err, "InvalidInstanceID.NotFound")
	})
}

func tfReadEIP(t *testing.T, c *ec2.Client, filterOrID ...types.Filter) types.Address {
	t.Helper()
	in := &ec2.DescribeAddressesInput{Filters: filterOrID}
	o, err := c.DescribeAddresses(context.Background(), in)
	step(t, "DescribeAddresses", err)
	if len(o.Addresses) != 1 {
		t.Fatalf("DescribeAddresses %+v answered %+v", filterOrID, o.Addresses)
	}
	return o.Addresses[0]
}

func tfReadEIPByID(t *testing.T, c *ec2.Client, alloc string) types.Address {
	t.Helper()
	o, err := c.DescribeAddresses(context.Background(), &ec2.DescribeAddressesInput{AllocationIds: []string{alloc}})
	step(t, "DescribeAddresses AllocationId.1", err)
	return onlyOne(t, "DescribeAddresses AllocationId.1", alloc, o.Addresses, func(a types.Address) *string { return a.AllocationId })
}

// TestTerraformEIPCalls replays aws_eip and aws_eip_association on an
// aws_instance: AllocateAddress, the Read, AssociateAddress (refused with
// Gateway.NotAttached until the VPC has an internet gateway), the
// association's Read by association-id twice, then the destroy order seen:
// the association's DisassociateAddress, the eip's own (tolerating
// InvalidAssociationID.NotFound), ReleaseAddress, and the NotFound codes.
func TestTerraformEIPCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 8, 16384)
		a := srv.NewAccount(t, "a")
		n := tfNetwork(t, a.EC2)
		inst := tfRunInstance(t, a.EC2, img, base64.StdEncoding.EncodeToString([]byte("x")), n)
		observe(t, srv, a.ID, inst, "running", "running")

		out, err := a.EC2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc, TagSpecifications: tagSpec(types.ResourceTypeElasticIp, "Name", "tf")})
		step(t, "AllocateAddress", err)
		alloc := aws.ToString(out.AllocationId)
		e := tfReadEIPByID(t, a.EC2, alloc)
		if e.Domain != types.DomainTypeVpc || aws.ToString(e.PublicIp) != aws.ToString(out.PublicIp) || aws.ToString(e.PublicIpv4Pool) == "" ||
			aws.ToString(e.NetworkBorderGroup) == "" || aws.ToString(e.AssociationId) != "" || aws.ToString(e.InstanceId) != "" {
			t.Errorf("DescribeAddresses after AllocateAddress: %+v", e)
		}
		wantTags(t, "eip", e.Tags, map[string]string{"Name": "tf"})
		sameRead(t, "aws_eip Read", e, tfReadEIPByID(t, a.EC2, alloc))

		_, err = a.EC2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: &alloc, InstanceId: &inst})
		wantClientError(t, err, "Gateway.NotAttached")
		tfCreateIGW(t, a.EC2, n.vpc, a.ID)
		as, err := a.EC2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: &alloc, InstanceId: &inst})
		step(t, "AssociateAddress", err)
		assoc := aws.ToString(as.AssociationId)
		byAssoc := flt("association-id", assoc)
		got := tfReadEIP(t, a.EC2, byAssoc)
		i := tfReadInstance(t, a.EC2, inst)
		if aws.ToString(got.AllocationId) != alloc || aws.ToString(got.AssociationId) != assoc || aws.ToString(got.InstanceId) != inst ||
			aws.ToString(got.NetworkInterfaceId) != aws.ToString(i.NetworkInterfaces[0].NetworkInterfaceId) ||
			aws.ToString(got.PrivateIpAddress) != aws.ToString(i.PrivateIpAddress) {
			t.Errorf("DescribeAddresses association-id: %+v (instance %+v)", got, i)
		}
		if aws.ToString(i.PublicIpAddress) != aws.ToString(out.PublicIp) {
			t.Errorf("instance ipAddress %q, want the EIP %q", aws.ToString(i.PublicIpAddress), aws.ToString(out.PublicIp))
		}
		sameRead(t, "aws_eip_association Read", got, tfReadEIP(t, a.EC2, byAssoc))
		sameRead(t, "aws_eip Read while associated", tfReadEIPByID(t, a.EC2, alloc), tfReadEIPByID(t, a.EC2, alloc))

		// Destroy: the association first, then the eip (its own disassociate tolerates NotFound).
		_, err = a.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: &assoc})
		step(t, "DisassociateAddress", err)
		_, err = a.EC2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: &assoc})
		wantClientError(t, err, "InvalidAssociationID.NotFound")
		if o, err := a.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: []types.Filter{byAssoc}}); err != nil || len(o.Addresses) != 0 {
			t.Errorf("DescribeAddresses association-id after disassociate: %+v %v", o, err)
		}
		_, err = a.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: &alloc})
		step(t, "ReleaseAddress", err)
		_, err = a.EC2.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: &alloc})
		wantClientError(t, err, "InvalidAllocationID.NotFound")
		_, err = a.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{alloc}})
		wantClientError(t, err, "InvalidAllocationID.NotFound")
	})
}
