package ec2_test

import (
	"context"
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

// TestInstanceVolumes: RunInstances makes the root volume and the mapped
// ones; attach and detach follow EC2's rules; DeleteOnTermination is
// honoured when the guest is gone.
func TestInstanceVolumes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 8, 16384)
		a := srv.NewAccount(t, "a")
		c := a.EC2
		inst := run(t, c, &ec2.RunInstancesInput{ImageId: &img, Placement: &types.Placement{AvailabilityZone: aws.String("kumo-1a")},
			BlockDeviceMappings: []types.BlockDeviceMapping{
				{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(5), VolumeType: "gp3"}},
				{DeviceName: aws.String("/dev/sdg"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(3), DeleteOnTermination: aws.Bool(false)}},
				{DeviceName: aws.String("/dev/sdh"), NoDevice: aws.String("")},
			},
			TagSpecifications: []types.TagSpecification{{ResourceType: "volume", Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}},
		}).Instances[0]
		id := aws.ToString(inst.InstanceId)
		root := "vol-" + strings.TrimPrefix(id, "i-")
		if len(inst.BlockDeviceMappings) != 3 || aws.ToString(inst.BlockDeviceMappings[0].Ebs.VolumeId) != root ||
			aws.ToString(inst.BlockDeviceMappings[0].DeviceName) != "/dev/xvda" || inst.RootDeviceType != types.DeviceTypeEbs {
			t.Fatalf("RunInstances block devices: %+v", inst.BlockDeviceMappings)
		}
		vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{flt("attachment.instance-id", id)}})
		if err != nil || len(vols.Volumes) != 3 {
			t.Fatalf("volumes of %s: %+v %v", id, vols, err)
		}
		byDev := map[string]types.Volume{}
		for _, v := range vols.Volumes {
			byDev[aws.ToString(v.Attachments[0].Device)] = v
			if v.State != types.VolumeStateInUse || len(v.Tags) != 1 {
				t.Errorf("launch volume %s: state %s tags %+v", aws.ToString(v.VolumeId), v.State, v.Tags)
			}
		}
		if r := byDev["/dev/xvda"]; aws.ToString(r.VolumeId) != root || r.Attachments[0].State != types.VolumeAttachmentStateAttached ||
			!aws.ToBool(r.Attachments[0].DeleteOnTermination) || aws.ToInt32(r.Size) != 8 {
			t.Errorf("root volume: %+v %+v", r, r.Attachments)
		}
		if f := byDev["/dev/sdf"]; aws.ToInt32(f.Size) != 5 || f.VolumeType != "gp3" || aws.ToInt32(f.Iops) != 3000 ||
			f.Attachments[0].State != types.VolumeAttachmentStateAttaching || !aws.ToBool(f.Attachments[0].DeleteOnTermination) {
			t.Errorf("/dev/sdf: %+v %+v", f, f.Attachments)
		}
		keep := aws.ToString(byDev["/dev/sdg"].VolumeId)
		if aws.ToBool(byDev["/dev/sdg"].Attachments[0].DeleteOnTermination) {
			t.Errorf("/dev/sdg DeleteOnTermination: %+v", byDev["/dev/sdg"].Attachments)
		}

		// Attach: the instance must be running or stopped, the zone the same, the device free.
		v := aws.ToString(createVolume(t, c, &ec2.CreateVolumeInput{Size: aws.Int32(10)}).VolumeId)
		other := aws.ToString(createVolume(t, c, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("kumo-1b"), Size: aws.Int32(10)}).VolumeId)
		attach := func(vol, dev string) (*ec2.AttachVolumeOutput, error) {
			return c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: &vol, InstanceId: &id, Device: &dev})
		}
		_, err = attach(v, "/dev/sdj")
		wantClientError(t, err, "IncorrectInstanceState") // still pending
		observe(t, srv, a.ID, id, "running", "running")
		_, err = attach(other, "/dev/sdj")
		wantClientError(t, err, "InvalidVolume.ZoneMismatch")
		_, err = attach(v, "/dev/sdf")
		wantClientError(t, err, "InvalidParameterValue")
		_, err = attach(v, "/dev/xvda")
		wantClientError(t, err, "InvalidParameterValue")
		_, err = attach(v, "/dev/bogus")
		wantClientError(t, err, "InvalidParameterValue")
		_, err = attach("vol-0123456789abcdef0", "/dev/sdj")
		wantClientError(t, err, "InvalidVolume.NotFound")
		_, err = c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: &v, InstanceId: aws.String("i-0123456789abcdef0"), Device: aws.String("/dev/sdj")})
		wantClientError(t, err, "InvalidInstanceID.NotFound")
		_, err = srv.NewAccount(t, "b").EC2.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: &v, InstanceId: &id, Device: aws.String("/dev/sdj")})
		wantClientError(t, err, "InvalidVolume.NotFound")
		att, err := attach(v, "/dev/sdj")
		if err != nil || att.State != types.VolumeAttachmentStateAttaching || aws.ToString(att.Device) != "/dev/sdj" {
			t.Fatalf("AttachVolume: %+v %v", att, err)
		}
		_, err = attach(v, "/dev/sdk")
		wantClientError(t, err, "VolumeInUse")
		_, err = c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: &v})
		wantClientError(t, err, "VolumeInUse")
		if got := describeVolume(t, c, v); got.State != types.VolumeStateInUse || len(got.Attachments) != 1 {
			t.Errorf("attached volume: %+v", got)
		}

		// Detach: wrong instance, then detaching until the node lets go; Force sticks.
		_, err = c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: &v, InstanceId: aws.String("i-0123456789abcdef0")})
		wantClientError(t, err, "InvalidAttachment.NotFound")
		_, err = c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: &other})
		wantClientError(t, err, "IncorrectState")
		_, err = c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: &root})
		wantClientError(t, err, "UnsupportedOperation")
		det, err := c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: &v, Force: aws.Bool(true)})
		if err != nil || det.State != types.VolumeAttachmentStateDetaching {
			t.Fatalf("DetachVolume: %+v %v", det, err)
		}
		out, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{flt("attachment.status", "detaching")}})
		if err != nil || len(out.Volumes) != 1 || aws.ToString(out.Volumes[0].VolumeId) != v {
			t.Errorf("detaching volumes: %+v %v", out, err)
		}
		var atts []store.VolumeAttachment
		storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) (err error) {
			atts, err = tx.VolumeAttachmentsOf(ctx, v)
			return err
		})
		if len(atts) != 1 || !atts[0].Force {
			t.Errorf("forced detach: %+v", atts)
		}

		// DeleteOnTermination through ModifyInstanceAttribute.
		_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, BlockDeviceMappings: []types.InstanceBlockDeviceMappingSpecification{
			{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsInstanceBlockDeviceSpecification{DeleteOnTermination: aws.Bool(false)}}}})
		wantClientError(t, err, "UnsupportedOperation")
		_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, BlockDeviceMappings: []types.InstanceBlockDeviceMappingSpecification{
			{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsInstanceBlockDeviceSpecification{DeleteOnTermination: aws.Bool(false)}}}})
		step(t, "ModifyInstanceAttribute blockDeviceMapping", err)
		bdm, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: &id, Attribute: types.InstanceAttributeNameBlockDeviceMapping})
		if err != nil || len(bdm.BlockDeviceMappings) != 4 {
			t.Fatalf("DescribeInstanceAttribute blockDeviceMapping: %+v %v", bdm, err)
		}
		for _, m := range bdm.BlockDeviceMappings {
			if aws.ToString(m.DeviceName) == "/dev/sdf" && aws.ToBool(m.Ebs.DeleteOnTermination) {
				t.Errorf("/dev/sdf still deleted on termination: %+v", m.Ebs)
			}
		}
		sdf := aws.ToString(byDev["/dev/sdf"].VolumeId)

		// Terminate; once the node reports the guest gone the root goes
		// with it and the others are released.
		_, err = c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
		step(t, "TerminateInstances", err)
		storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) error {
			return tx.SettleInstanceVolumes(ctx, id, time.Now())
		})
		_, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{root}})
		wantClientError(t, err, "InvalidVolume.NotFound")
		for _, vol := range []string{keep, sdf, v} {
			if got := describeVolume(t, c, vol); got.State != types.VolumeStateAvailable || len(got.Attachments) != 0 {
				t.Errorf("%s after termination: %+v", vol, got)
			}
		}
	})
}

// TestModifyVolume: grow, change type and performance; the modification
// goes modifying → optimizing → completed; AWS's refusals.
func TestModifyVolume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		a := srv.NewAccount(t, "a")
		c := a.EC2
		v := aws.ToString(createVolume(t, c, &ec2.CreateVolumeInput{Size: aws.Int32(10), VolumeType: "gp2"}).VolumeId)
		_, err := c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: &v, Size: aws.Int32(5)})
		wantClientError(t, err, "InvalidParameterValue")
		_, err = c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: &v, Size: aws.Int32(10)})
		wantClientError(t, err, "InvalidParameterValue")
		_, err = c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: &v, VolumeType: "io1"})
		wantClientError(t, err, "InvalidParameterValue") // 3000 IOPS on 10 GiB is over io1's 50 per GiB
		m, err := c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: &v, Size: aws.Int32(20), VolumeType: "gp3", Throughput: aws.Int32(250)})
		if err != nil {
			t.Fatalf("ModifyVolume: %v", err)
		}
		mod := m.VolumeModification
		if aws.ToInt32(mod.OriginalSize) != 10 || aws.ToInt32(mod.TargetSize) != 20 || mod.OriginalVolumeType != "gp2" || mod.TargetVolumeType != "gp3" ||
			aws.ToInt32(mod.TargetIops) != 3000 || aws.ToInt32(mod.TargetThroughput) != 250 || mod.ModificationState != types.VolumeModificationStateOptimizing {
			t.Errorf("modification of a volume without data: %+v", mod)
		}
		got := describeVolume(t, c, v)
		if aws.ToInt32(got.Size) != 20 || got.VolumeType != "gp3" || aws.ToInt32(got.Throughput) != 250 {
			t.Errorf("after ModifyVolume: %+v", got)
		}
		_, err = c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: &v, Size: aws.Int32(30)})
		wantClientError(t, err, "IncorrectModificationState")
		list, err := c.DescribeVolumesModifications(ctx, &ec2.DescribeVolumesModificationsInput{VolumeIds: []string{v},
			Filters: []types.Filter{flt("modification-state", "optimizing", "modifying")}})
		if err != nil || len(list.VolumesModifications) != 1 || aws.ToInt32(list.VolumesModifications[0].TargetSize) != 20 {
			t.Errorf("DescribeVolumesModifications: %+v %v", list, err)
		}
		var events []store.UsageEvent
		storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) (err error) {
			events, err = tx.ListUsageEvents(ctx, a.ID)
			return err
		})
		if n := len(events); n != 2 || events[1].Event != store.UsageModify || events[1].SizeGiB != 20 || events[1].VolumeType != "gp3" {
			t.Errorf("usage events: %+v", events)
		}
	})
}
