package ec2_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func TestRunAndDescribeInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		node := readyNode(t, srv, "h1", "kumo-1a", 8, 16384)
		a := srv.NewAccount(t, "a")
		if _, err := a.EC2.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("k1")}); err != nil {
			t.Fatal(err)
		}
		userData := base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho hello\n"))
		out := run(t, a.EC2, &ec2.RunInstancesInput{ImageId: &img, InstanceType: types.InstanceTypeT3Micro, KeyName: aws.String("k1"),
			UserData: &userData, ClientToken: aws.String("tok-1"),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web1")}}}}})
		if len(out.Instances) != 1 || *out.OwnerId != a.ID || !strings.HasPrefix(*out.ReservationId, "r-") {
			t.Fatalf("reservation: %+v", out)
		}
		inst := out.Instances[0]
		id := *inst.InstanceId
		if inst.State.Name != types.InstanceStateNamePending || *inst.State.Code != 0 || *inst.StateReason.Code != "pending" || *inst.PrivateIpAddress != "172.31.0.4" ||
			*inst.PrivateDnsName != "ip-172-31-0-4.kumo-1.compute.internal" || *inst.Placement.AvailabilityZone != "kumo-1a" ||
			*inst.KeyName != "k1" || inst.RootDeviceType != types.DeviceTypeEbs || *inst.RootDeviceName != "/dev/xvda" ||
			inst.Hypervisor != types.HypervisorTypeXen || inst.Architecture != types.ArchitectureValuesX8664 ||
			inst.VirtualizationType != types.VirtualizationTypeHvm || *inst.ClientToken != "tok-1" || *inst.AmiLaunchIndex != 0 ||
			len(inst.Tags) != 1 || *inst.Tags[0].Value != "web1" || inst.Monitoring.State != types.MonitoringStateDisabled ||
			*inst.SourceDestCheck != true || *inst.PlatformDetails != "Linux/UNIX" || inst.MetadataOptions.HttpTokens != types.HttpTokensStateOptional {
			t.Fatalf("launched instance: %+v", inst)
		}
		if len(inst.SecurityGroups) != 1 || *inst.SecurityGroups[0].GroupName != "default" || len(inst.NetworkInterfaces) != 1 ||
			!strings.HasPrefix(*inst.NetworkInterfaces[0].MacAddress, "02:") || !strings.HasPrefix(*inst.NetworkInterfaces[0].NetworkInterfaceId, "eni-") ||
			*inst.NetworkInterfaces[0].PrivateIpAddress != "172.31.0.4" || len(inst.BlockDeviceMappings) != 1 || *inst.CpuOptions.CoreCount != 2 {
			t.Fatalf("launched instance's network and disks: %+v", inst)
		}
		r := row(t, srv, a.ID, id)
		if r.NodeID != node || r.DesiredPower != "running" || r.VCPUs != 2 || r.MemoryMiB != 1024 || !strings.HasPrefix(r.SMBIOSUUID, "ec2") ||
			r.KernelID == "" || r.UserData != userData {
			t.Fatalf("stored row: %+v", r)
		}

		// A second instance takes the next address.
		second := run(t, a.EC2, &ec2.RunInstancesInput{ImageId: &img})
		if *second.Instances[0].PrivateIpAddress != "172.31.0.5" || second.Instances[0].InstanceType != types.InstanceTypeT3Micro {
			t.Fatalf("second instance: %+v", second.Instances[0])
		}
		eni := *inst.NetworkInterfaces[0].NetworkInterfaceId
		sg := *inst.SecurityGroups[0].GroupId
		for _, f := range [][]types.Filter{
			{flt("instance-state-name", "pending"), flt("tag:Name", "web1")},
			{flt("instance-state-code", "0"), flt("key-name", "k1")},
			{flt("private-ip-address", "172.31.0.4")},
			{flt("private-dns-name", "ip-172-31-0-4.*")},
			{flt("image-id", img), flt("instance-type", "t3.micro"), flt("availability-zone", "kumo-1a"), flt("tag-key", "Name")},
			{flt("instance-id", id), flt("reservation-id", *out.ReservationId), flt("launch-index", "0")},
			{flt("subnet-id", *inst.SubnetId), flt("vpc-id", *inst.VpcId), flt("tag-value", "web1")},
			{flt("instance.group-id", sg), flt("instance.group-name", "default"), flt("network-interface.network-interface-id", eni)},
			{flt("client-token", "tok-1"), flt("root-device-type", "ebs")},
		} {
			if got := describeInstances(t, a.EC2, f...); len(got) != 1 || *got[0].InstanceId != id {
				t.Fatalf("filters %+v matched %d instances", f, len(got))
			}
		}
		if got := describeInstances(t, a.EC2, flt("instance-state-name", "running")); len(got) != 0 {
			t.Fatalf("running filter matched %d", len(got))
		}
		if got := describeInstances(t, a.EC2); len(got) != 2 {
			t.Fatalf("all instances: %d", len(got))
		}
		_, err := a.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{flt("no-such-filter", "x")}})
		wantClientError(t, err, "InvalidParameterValue")
		_, err = a.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-00000000000000000"}})
		wantClientError(t, err, "InvalidInstanceID.NotFound")
		_, err = a.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-xyz"}})
		wantClientError(t, err, "InvalidInstanceID.Malformed")
		_, err = a.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(3)})
		wantClientError(t, err, "InvalidParameterValue")
		_, err = a.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}, MaxResults: aws.Int32(5)})
		wantClientError(t, err, "InvalidParameterCombination")

		// ClientToken: the same request returns the original reservation; a different one is refused.
		again := run(t, a.EC2, &ec2.RunInstancesInput{ImageId: &img, InstanceType: types.InstanceTypeT3Micro, KeyName: aws.String("k1"), ClientToken: aws.String("tok-1")})
		if *again.ReservationId != *out.ReservationId || *again.Instances[0].InstanceId != id {
			t.Fatalf("replayed ClientToken made %+v", again)
		}
		_, err = a.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: &img, InstanceType: types.InstanceTypeT3Small, KeyName: aws.String("k1"),
			ClientToken: aws.String("tok-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
		wantClientError(t, err, "IdempotentParameterMismatch")

		// Tags on instances work through CreateTags and DescribeTags too.
		if _, err := a.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}); err != nil {
			t.Fatal(err)
		}
		tags, err := a.EC2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{flt("resource-type", "instance"), flt("key", "team")}})
		if err != nil || len(tags.Tags) != 1 || *tags.Tags[0].ResourceId != id {
			t.Fatalf("DescribeTags: %+v %v", tags, err)
		}

		// Another account sees none of it.
		other := srv.NewAccount(t, "other")
		if got := describeInstances(t, other.EC2); len(got) != 0 {
			t.Fatalf("other account sees %d instances", len(got))
		}
		_, err = other.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		wantClientError(t, err, "InvalidInstanceID.NotFound")
		_, err = other.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
		wantClientError(t, err, "InvalidInstanceID.NotFound")
		_, err = other.EC2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: &id})
		wantClientError(t, err, "InvalidInstanceID.NotFound")
		_, err = other.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("x"), Value: aws.String("y")}}})
		wantClientError(t, err, "InvalidInstanceID.NotFound")
	})
}

func TestRunInstancesBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 8, 16384)
		a := srv.NewAccount(t, "a")
		vpc, err := a.EC2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
		if err != nil {
			t.Fatal(err)
		}
		otherGroup, err := a.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("elsewhere"), Description: aws.String("d"), VpcId: vpc.Vpc.VpcId})
		if err != nil {
			t.Fatal(err)
		}
		big := base64.StdEncoding.EncodeToString(make([]byte, 16*1024+1))
		one := func(in *ec2.RunInstancesInput) *ec2.RunInstancesInput {
			if in.ImageId == nil {
				in.ImageId = &img
			}
			if in.MinCount == nil {
				in.MinCount, in.MaxCount = aws.Int32(1), aws.Int32(1)
			}
			return in
		}
		cases := []struct {
			name string
			in   *ec2.RunInstancesInput
			code string
		}{
			{"unknown image", one(&ec2.RunInstancesInput{ImageId: aws.String("ami-00000000000000000")}), "InvalidAMIID.NotFound"},
			{"malformed image", one(&ec2.RunInstancesInput{ImageId: aws.String("ami-zz")}), "InvalidAMIID.Malformed"},
			{"min 0", one(&ec2.RunInstancesInput{MinCount: aws.Int32(0), MaxCount: aws.Int32(1)}), "InvalidParameterValue"},
			{"max < min", one(&ec2.RunInstancesInput{MinCount: aws.Int32(3), MaxCount: aws.Int32(2)}), "InvalidParameterValue"},
			{"unknown type", one(&ec2.RunInstancesInput{InstanceType: "x9.huge"}), "InvalidParameterValue"},
			{"unknown key", one(&ec2.RunInstancesInput{KeyName: aws.String("nope")}), "InvalidKeyPair.NotFound"},
			{"unknown subnet", one(&ec2.RunInstancesInput{SubnetId: aws.String("subnet-00000000000000000")}), "InvalidSubnetID.NotFound"},
			{"unknown group", one(&ec2.RunInstancesInput{SecurityGroupIds: []string{"sg-00000000000000000"}}), "InvalidGroup.NotFound"},
			{"group name unknown", one(&ec2.RunInstancesInput{SecurityGroups: []string{"nope"}}), "InvalidGroup.NotFound"},
			{"group of another vpc", one(&ec2.RunInstancesInput{SecurityGroupIds: []string{*otherGroup.GroupId}}), "InvalidParameter"},
			{"user data not base64", one(&ec2.RunInstancesInput{UserData: aws.String("!!not base64!!")}), "InvalidParameterValue"},
			{"user data too big", one(&ec2.RunInstancesInput{UserData: &big}), "InvalidParameterValue"},
			{"tag spec for a vpc", one(&ec2.RunInstancesInput{TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}}), "InvalidParameterValue"},
			{"shutdown behavior", one(&ec2.RunInstancesInput{InstanceInitiatedShutdownBehavior: "hibernate"}), "InvalidParameterValue"},
			{"unknown zone", one(&ec2.RunInstancesInput{Placement: &types.Placement{AvailabilityZone: aws.String("mars-1a")}}), "InvalidParameterValue"},
			{"kernel image", one(&ec2.RunInstancesInput{ImageId: kernelOf(t, a.EC2, img)}), "InvalidParameterValue"},
			{"root too small", one(&ec2.RunInstancesInput{BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(0)}}}}), "InvalidParameterValue"},
			{"root kept after termination", one(&ec2.RunInstancesInput{BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{DeleteOnTermination: aws.Bool(false)}}}}), "UnsupportedOperation"},
			{"extra volume too big", one(&ec2.RunInstancesInput{BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvdb"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(16385)}}}}), "InvalidParameterValue"},
			{"extra volume bad device", one(&ec2.RunInstancesInput{BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/vdb"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(5)}}}}), "InvalidParameterValue"},
			{"extra volume without size", one(&ec2.RunInstancesInput{BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvdb"), Ebs: &types.EbsBlockDevice{VolumeType: "gp3"}}}}), "MissingParameter"},
		}
		for _, c := range cases {
			_, err := a.EC2.RunInstances(ctx, c.in)
			if err == nil {
				t.Fatalf("%s: RunInstances succeeded", c.name)
			}
			t.Run(c.name, func(t *testing.T) { wantClientError(t, err, c.code) })
		}
		if got := describeInstances(t, a.EC2); len(got) != 0 {
			t.Fatalf("failed launches left %d instances", len(got))
		}
		// Names resolve in the default VPC; a larger root and a zone are honoured.
		out := run(t, a.EC2, &ec2.RunInstancesInput{ImageId: &img, SecurityGroups: []string{"default"}, Placement: &types.Placement{AvailabilityZone: aws.String("kumo-1a")},
			BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(20)}}}})
		if r := row(t, srv, a.ID, *out.Instances[0].InstanceId); r.RootSizeGiB != 20 || r.AvailabilityZone != "kumo-1a" {
			t.Fatalf("root size / zone: %+v", r)
		}
		// No node in kumo-1b: the zone has no capacity.
		_, err = a.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: &img, MinCount: aws.Int32(1), MaxCount: aws.Int32(1), Placement: &types.Placement{AvailabilityZone: aws.String("kumo-1b")}})
		wantCode(t, err, "InsufficientInstanceCapacity")
	})
}

func kernelOf(t *testing.T, c *ec2.Client, img string) *string {
	t.Helper()
	out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{img}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Images[0].KernelId
}

func TestInstanceCapacity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		// Room for two t3.micro (2 vCPU, 1 GiB) on the one usable node.
		node := readyNode(t, srv, "h1", "kumo-1a", 4, 4096)
		addNode(t, srv, "stale", "kumo-1a", 64, 65536, time.Now().Add(-time.Hour), "ready")
		addNode(t, srv, "draining", "kumo-1a", 64, 65536, time.Now(), "draining")
		a := srv.NewAccount(t, "a")

		_, err := a.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: &img, MinCount: aws.Int32(3), MaxCount: aws.Int32(3)})
		wantCode(t, err, "InsufficientInstanceCapacity")
		var re interface{ HTTPStatusCode() int }
		if !errorsAs(err, &re) || re.HTTPStatusCode() != 500 {
			t.Fatalf("InsufficientInstanceCapacity status: %v", err)
		}
		if got := describeInstances(t, a.EC2); len(got) != 0 {
			t.Fatalf("a failed launch left %d instances", len(got))
		}
		var enis []store.NetworkInterface
		_ = srv.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
			enis, err = tx.ListNetworkInterfaces(ctx, a.ID)
			return err
		})
		if len(enis) != 0 {
			t.Fatalf("a failed launch left %d interfaces", len(enis))
		}

		out := run(t, a.EC2, &ec2.RunInstancesInput{ImageId: &img, MinCount: aws.Int32(1), MaxCount: aws.Int32(5)})
		if len(out.Instances) != 2 || *out.Instances[0].AmiLaunchIndex != 0 || *out.Instances[1].AmiLaunchIndex != 1 {
			t.Fatalf("MaxCount beyond capacity launched %d: %+v", len(out.Instances), out.Instances)
		}
		first, second := *out.Instances[0].InstanceId, *out.Instances[1].InstanceId
		for _, id := range []string{first, second} {
			if r := row(t, srv, a.ID, id); r.NodeID != node {
				t.Fatalf("%s placed on %s, want the ready node %s", id, r.NodeID, node)
			}
		}
		// A stopped instance keeps its node but frees its vCPUs and memory.
		observe(t, srv, a.ID, first, "running", "running")
		if _, err := a.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{first}}); err != nil {
			t.Fatal(err)
		}
		observe(t, srv, a.ID, first, "stopped", "stopped")
		third := *run(t, a.EC2, &ec2.RunInstancesInput{ImageId: &img}).Instances[0].InstanceId
		// Now the node is full again: the stopped one cannot start and stays stopped.
		_, err = a.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{first}})
		wantCode(t, err, "InsufficientInstanceCapacity")
		if s := stateOf(t, a.EC2, first); s != "stopped" {
			t.Fatalf("after a failed start: %s", s)
		}
		// Terminating one frees room only once it is terminated.
		if _, err := a.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{third}}); err != nil {
			t.Fatal(err)
		}
		_, err = a.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{first}})
		wantCode(t, err, "InsufficientInstanceCapacity")
		observe(t, srv, a.ID, third, "terminated", "deleted")
		st, err := a.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{first}})
		if err != nil || st.StartingInstances[0].CurrentState.Name != types.InstanceStateNamePending || st.StartingInstances[0].PreviousState.Name != types.InstanceStateNameStopped {
			t.Fatalf("StartInstances: %+v %v", st, err)
		}
		if r := row(t, srv, a.ID, first); r.NodeID != node || r.DesiredPower != "running" {
			t.Fatalf("started instance: node %s power %s", r.NodeID, r.DesiredPower)
		}
		// A stopped instance whose node went stale starts on another ready node of its zone.
		observe(t, srv, a.ID, second, "running", "running")
		if _, err := a.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{second}, Force: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		if r := row(t, srv, a.ID, second); !r.ForceStop || r.DesiredPower != "stopped" {
			t.Fatalf("forced stop: %+v", r)
		}
		observe(t, srv, a.ID, second, "stopped", "stopped")
		fresh := readyNode(t, srv, "h2", "kumo-1a", 4, 4096)
		setRow(t, srv, a.ID, second, func(i *store.Instance) { i.NodeID = "node-00000000000000000" })
		if _, err := a.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{second}}); err != nil {
			t.Fatal(err)
		}
		if r := row(t, srv, a.ID, second); r.NodeID != fresh {
			t.Fatalf("restart after losing the node went to %s, want %s", r.NodeID, fresh)
		}
	})
}

// TestConcurrentLaunchesShareCapacity runs launches of two accounts at once
// against one node: together they never get more than it holds.
func TestConcurrentLaunchesShareCapacity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 6, 65536) // three t3.micro
		accounts := []*controllertest.Account{srv.NewAccount(t, "a"), srv.NewAccount(t, "b"), srv.NewAccount(t, "c")}
		launched := make(chan int, len(accounts)*2)
		done := make(chan struct{})
		for _, acct := range accounts {
			for range 2 {
				go func() {
					defer func() { done <- struct{}{} }()
					out, err := acct.EC2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: &img, MinCount: aws.Int32(1), MaxCount: aws.Int32(2)})
					if err == nil {
						launched <- len(out.Instances)
					}
				}()
			}
		}
		for range len(accounts) * 2 {
			<-done
		}
		close(launched)
		total := 0
		for n := range launched {
			total += n
		}
		if total != 3 {
			t.Fatalf("concurrent launches placed %d instances on a node with room for 3", total)
		}
	})
}

func TestDescribeInstancesPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 64, 65536)
		a := srv.NewAccount(t, "a")
		out := run(t, a.EC2, &ec2.RunInstancesInput{ImageId: &img, MinCount: aws.Int32(7), MaxCount: aws.Int32(7),
			// 7 public IPs would not fit the test pool (192.0.2.1-6).
			NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), AssociatePublicIpAddress: aws.Bool(false)}},
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkInterface, Tags: []types.Tag{{Key: aws.String("role"), Value: aws.String("nic")}}}}})
		if len(out.Instances) != 7 {
			t.Fatalf("launched %d", len(out.Instances))
		}
		seen := map[string]bool{}
		var token *string
		for pages := 0; ; pages++ {
			page, err := a.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Reservations {
				if *r.ReservationId != *out.ReservationId {
					t.Fatalf("reservation %s", *r.ReservationId)
				}
				for _, i := range r.Instances {
					seen[*i.InstanceId] = true
				}
			}
			if token = page.NextToken; token == nil {
				if pages != 1 {
					t.Fatalf("%d pages, want 2", pages+1)
				}
				break
			}
		}
		if len(seen) != 7 {
			t.Fatalf("pages held %d distinct instances", len(seen))
		}
		tags, err := a.EC2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{flt("resource-type", "network-interface")}})
		if err != nil || len(tags.Tags) != 7 {
			t.Fatalf("interface tags: %+v %v", tags, err)
		}
	})
}
