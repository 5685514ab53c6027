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

// TestCreateImage: an image of an instance with a data volume is pending,
// maps a pending snapshot of each volume (root included) and cannot be
// launched until it is available (the node server's reports make it so);
// then RunInstances creates the volumes from its snapshots.
func TestCreateImage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 8, 16384)
		a := srv.NewAccount(t, "a")
		c := a.EC2
		inst := aws.ToString(run(t, c, &ec2.RunInstancesInput{ImageId: &img, BlockDeviceMappings: []types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(3)}}}}).Instances[0].InstanceId)

		_, err := c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: &inst, Name: aws.String("x")})
		wantClientError(t, err, "InvalidAMIName.Malformed")
		_, err = c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String("i-0000000000000dead"), Name: aws.String("golden")})
		wantClientError(t, err, "InvalidInstanceID.NotFound")
		_, err = c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: &inst, Name: aws.String("golden")})
		wantClientError(t, err, "IncorrectInstanceState") // still pending
		observe(t, srv, a.ID, inst, "running", "running")
		_, err = c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: &inst, Name: aws.String("golden")})
		wantClientError(t, err, "UnsupportedOperation") // would need a clean shutdown first

		out, err := c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: &inst, Name: aws.String("golden"), NoReboot: aws.Bool(true),
			Description: aws.String("with data"), TagSpecifications: []types.TagSpecification{
				{ResourceType: "image", Tags: []types.Tag{{Key: aws.String("role"), Value: aws.String("web")}}},
				{ResourceType: "snapshot", Tags: []types.Tag{{Key: aws.String("from"), Value: aws.String("golden")}}}}})
		if err != nil {
			t.Fatalf("CreateImage: %v", err)
		}
		ami := aws.ToString(out.ImageId)
		_, err = c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: &inst, Name: aws.String("golden"), NoReboot: aws.Bool(true)})
		wantClientError(t, err, "InvalidAMIName.Duplicate")

		got, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}})
		if err != nil || len(got.Images) != 1 {
			t.Fatalf("DescribeImages: %+v %v", got, err)
		}
		im := got.Images[0]
		if im.State != types.ImageStatePending || aws.ToString(im.RootDeviceName) != "/dev/xvda" || im.RootDeviceType != types.DeviceTypeEbs ||
			len(im.BlockDeviceMappings) != 2 || len(im.Tags) != 1 || aws.ToString(im.Description) != "with data" {
			t.Fatalf("the new image: %+v", im)
		}
		var snaps []string
		for _, m := range im.BlockDeviceMappings {
			if m.Ebs == nil || aws.ToString(m.Ebs.SnapshotId) == "" {
				t.Fatalf("mapping without a snapshot: %+v", m)
			}
			snaps = append(snaps, aws.ToString(m.Ebs.SnapshotId))
		}
		ds, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: snaps})
		if err != nil || len(ds.Snapshots) != 2 {
			t.Fatalf("the image's snapshots: %+v %v", ds, err)
		}
		for _, s := range ds.Snapshots {
			if s.State != types.SnapshotStatePending || len(s.Tags) != 1 {
				t.Errorf("snapshot of the image: %+v", s)
			}
		}
		_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: &ami, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
		wantClientError(t, err, "InvalidAMIID.Unavailable")
		_, err = c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: &snaps[0]})
		wantClientError(t, err, "InvalidSnapshot.InUse")

		// As the node server does when the node reports them completed.
		storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) error {
			for _, id := range snaps {
				sn, err := tx.GetSnapshot(ctx, id)
				if err != nil {
					return err
				}
				sn.State, sn.Progress = "completed", 100
				if err := tx.UpdateSnapshot(ctx, sn); err != nil {
					return err
				}
			}
			row, err := tx.GetImage(ctx, ami)
			if err != nil {
				return err
			}
			row.State = "available"
			return tx.UpdateImage(ctx, row)
		})
		launched := run(t, c, &ec2.RunInstancesInput{ImageId: &ami}).Instances[0]
		var fromSnaps []string
		for _, m := range launched.BlockDeviceMappings {
			vs, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{aws.ToString(m.Ebs.VolumeId)}})
			if err != nil || len(vs.Volumes) != 1 {
				t.Fatalf("volume of the launched instance: %+v %v", vs, err)
			}
			fromSnaps = append(fromSnaps, aws.ToString(vs.Volumes[0].SnapshotId))
			if aws.ToString(m.DeviceName) == "/dev/sdf" && aws.ToInt32(vs.Volumes[0].Size) != 3 {
				t.Errorf("the data volume: %+v", vs.Volumes[0])
			}
		}
		slices.Sort(fromSnaps)
		slices.Sort(snaps)
		if !slices.Equal(fromSnaps, snaps) {
			t.Fatalf("the launched instance's volumes come from %v, want the image's %v", fromSnaps, snaps)
		}
	})
}
