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

// tfReadVolume is aws_ebs_volume's Read: DescribeVolumes VolumeId.1.
func tfReadVolume(t *testing.T, c *ec2.Client, id string) types.Volume {
	t.Helper()
	o, err := c.DescribeVolumes(context.Background(), &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	step(t, "DescribeVolumes VolumeId.1", err)
	return onlyOne(t, "DescribeVolumes VolumeId.1", id, o.Volumes, func(v types.Volume) *string { return v.VolumeId })
}

// TestTerraformEBSVolumeCalls replays aws_ebs_volume: CreateVolume with
// the provider's parameters, DescribeVolumes until available, the Read
// twice without a diff, the size update (ModifyVolume Size, then
// DescribeVolumes until available), a tag update, and the delete
// (DeleteVolume, then DescribeVolumes until NotFound).
func TestTerraformEBSVolumeCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		c := srv.NewAccount(t, "a").EC2
		out, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("kumo-1a"), Size: aws.Int32(1), VolumeType: "gp3",
			ClientToken: aws.String("terraform-20261207170000000000000002"), TagSpecifications: tagSpec(types.ResourceTypeVolume, "Name", "data")})
		step(t, "CreateVolume", err)
		id := aws.ToString(out.VolumeId)
		if !strings.HasPrefix(id, "vol-") || len(id) != 21 {
			t.Fatalf("CreateVolume volumeId %q", id)
		}
		if v := tfReadVolume(t, c, id); v.State != types.VolumeStateAvailable {
			t.Fatalf("the waiter wants available, got %s", v.State) // creating would be polled; anything else fails
		}
		v := tfReadVolume(t, c, id)
		if aws.ToString(v.AvailabilityZone) != "kumo-1a" || aws.ToBool(v.Encrypted) || aws.ToInt32(v.Iops) != 3000 || aws.ToString(v.KmsKeyId) != "" ||
			aws.ToBool(v.MultiAttachEnabled) || aws.ToString(v.OutpostArn) != "" || aws.ToInt32(v.Size) != 1 || aws.ToString(v.SnapshotId) != "" ||
			aws.ToInt32(v.Throughput) != 125 || v.VolumeType != types.VolumeTypeGp3 {
			t.Errorf("aws_ebs_volume Read: %+v", v)
		}
		wantTags(t, "volume", v.Tags, map[string]string{"Name": "data"})
		sameRead(t, "aws_ebs_volume Read", v, tfReadVolume(t, c, id))

		// Update: size, then tags.
		_, err = c.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: &id, Size: aws.Int32(2)})
		step(t, "ModifyVolume Size=2", err)
		if v := tfReadVolume(t, c, id); v.State != types.VolumeStateAvailable || aws.ToInt32(v.Size) != 2 {
			t.Errorf("after ModifyVolume: state %s size %d", v.State, aws.ToInt32(v.Size))
		}
		_, err = c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("data")}}})
		step(t, "DeleteTags vol-", err)
		_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("data2")}}})
		step(t, "CreateTags vol-", err)
		wantTags(t, "volume after the tag update", tfReadVolume(t, c, id).Tags, map[string]string{"Name": "data2"})

		// Delete, then the waiter until NotFound (or deleted).
		_, err = c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: &id})
		step(t, "DeleteVolume", err)
		o, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
		if errCode(err) != "InvalidVolume.NotFound" && (err != nil || len(o.Volumes) != 1 || o.Volumes[0].State != types.VolumeStateDeleted) {
			t.Errorf("after DeleteVolume: %+v %v (the waiter wants InvalidVolume.NotFound or deleted)", o, err)
		}
		_, err = c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: &id})
		if errCode(err) != "InvalidVolume.NotFound" {
			t.Errorf("a second DeleteVolume: %v (the provider counts InvalidVolume.NotFound as done)", err)
		}
	})
}

// tfAttachmentRead is aws_volume_attachment's Read: DescribeVolumes of the
// volume filtered by the attachment's device and instance.
func tfAttachmentRead(t *testing.T, c *ec2.Client, vol, dev, inst string) []types.Volume {
	t.Helper()
	o, err := c.DescribeVolumes(context.Background(), &ec2.DescribeVolumesInput{VolumeIds: []string{vol},
		Filters: []types.Filter{flt("attachment.device", dev), flt("attachment.instance-id", inst)}})
	step(t, "DescribeVolumes VolumeId.1 attachment.device attachment.instance-id", err)
	return o.Volumes
}

// setAttachment plays the node: it reports the attachment attached, or
// the volume gone from the guest.
func setAttachment(t *testing.T, srv *controllertest.Server, vol, inst string, attached bool) {
	t.Helper()
	storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) error {
		atts, err := tx.VolumeAttachmentsOf(ctx, vol)
		if err != nil {
			return err
		}
		for _, a := range atts {
			if a.InstanceID != inst {
				continue
			}
			if !attached {
				return tx.FinishDetach(ctx, a, time.Now())
			}
			a.State = store.AttachmentAttached
			return tx.UpdateVolumeAttachment(ctx, a)
		}
		return nil
	})
}

// TestTerraformVolumeAttachmentCalls replays aws_volume_attachment between
// an aws_ebs_volume and an aws_instance, and the instance's Read of its
// block devices (DescribeVolumes VolumeId.N) with the volume attached.
func TestTerraformVolumeAttachmentCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 8, 16384)
		a := srv.NewAccount(t, "a")
		c := a.EC2
		n := tfNetwork(t, c)
		inst := tfRunInstance(t, c, img, "", n)
		observe(t, srv, a.ID, inst, "running", "running")
		vol := aws.ToString(createVolume(t, c, &ec2.CreateVolumeInput{Size: aws.Int32(1), VolumeType: "gp3"}).VolumeId)
		const dev = "/dev/sdf"

		// Create: nothing attached yet, the instance is running, attach, wait for attached.
		if got := tfAttachmentRead(t, c, vol, dev, inst); len(got) != 0 {
			t.Fatalf("before AttachVolume the provider expects no volume: %+v", got)
		}
		if s := stateOf(t, c, inst); s != "running" {
			t.Fatalf("instance %s", s)
		}
		att, err := c.AttachVolume(ctx, &ec2.AttachVolumeInput{Device: aws.String(dev), InstanceId: &inst, VolumeId: &vol})
		step(t, "AttachVolume", err)
		if att.State != types.VolumeAttachmentStateAttaching || aws.ToString(att.InstanceId) != inst || aws.ToString(att.VolumeId) != vol {
			t.Errorf("AttachVolume: %+v", att)
		}
		got := tfAttachmentRead(t, c, vol, dev, inst)
		if len(got) != 1 || len(got[0].Attachments) != 1 || got[0].Attachments[0].State != types.VolumeAttachmentStateAttaching {
			t.Fatalf("while attaching the waiter polls: %+v", got)
		}
		setAttachment(t, srv, vol, inst, true)
		got = tfAttachmentRead(t, c, vol, dev, inst)
		if len(got) != 1 || got[0].Attachments[0].State != types.VolumeAttachmentStateAttached || got[0].State != types.VolumeStateInUse {
			t.Fatalf("attached: %+v", got)
		}
		sameRead(t, "aws_volume_attachment Read", got, tfAttachmentRead(t, c, vol, dev, inst))

		// The instance's Read now reads both of its block devices.
		r := tfReadInstance(t, c, inst)
		var ids []string
		for _, m := range r.BlockDeviceMappings {
			if m.Ebs != nil {
				ids = append(ids, aws.ToString(m.Ebs.VolumeId))
			}
		}
		o, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: ids})
		step(t, "DescribeVolumes VolumeId.N", err)
		if len(ids) != 2 || len(o.Volumes) != 2 || aws.ToString(r.BlockDeviceMappings[0].DeviceName) != aws.ToString(r.RootDeviceName) {
			t.Errorf("instance block devices %+v, volumes %+v", r.BlockDeviceMappings, o.Volumes)
		}
		for _, v := range o.Volumes {
			if aws.ToInt32(v.Size) == 0 || v.VolumeType == "" || v.Iops == nil || aws.ToBool(v.Encrypted) || v.Tags != nil {
				t.Errorf("block device volume %+v", v)
			}
		}

		// Delete: DetachVolume, then the same Read until the attachment is gone.
		det, err := c.DetachVolume(ctx, &ec2.DetachVolumeInput{Device: aws.String(dev), InstanceId: &inst, VolumeId: &vol, Force: aws.Bool(false)})
		step(t, "DetachVolume", err)
		if det.State != types.VolumeAttachmentStateDetaching {
			t.Errorf("DetachVolume: %+v", det)
		}
		setAttachment(t, srv, vol, inst, false)
		if got := tfAttachmentRead(t, c, vol, dev, inst); len(got) != 0 {
			t.Errorf("after the detach the waiter wants no volume: %+v", got)
		}
		if v := tfReadVolume(t, c, vol); v.State != types.VolumeStateAvailable {
			t.Errorf("volume after detach: %s", v.State)
		}
	})
}
