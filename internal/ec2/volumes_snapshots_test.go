package ec2_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestVolumeSnapshots: CreateSnapshot and CreateSnapshots write pending
// snapshots (a node completes them); CopySnapshot copies a completed one
// in the region; another account's volume is NotFound; the usage ledger
// sees snapshots come and go.
func TestVolumeSnapshots(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		img := demo(t, srv)
		readyNode(t, srv, "h1", "kumo-1a", 8, 16384)
		a := srv.NewAccount(t, "a")
		c := a.EC2
		vol := aws.ToString(createVolume(t, c, &ec2.CreateVolumeInput{Size: aws.Int32(4),
			TagSpecifications: []types.TagSpecification{{ResourceType: "volume", Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}}}).VolumeId)
		sn, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: &vol, Description: aws.String("nightly"),
			TagSpecifications: []types.TagSpecification{{ResourceType: "snapshot", Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}})
		if err != nil || sn.State != types.SnapshotStatePending || aws.ToString(sn.VolumeId) != vol || aws.ToInt32(sn.VolumeSize) != 4 ||
			aws.ToString(sn.Description) != "nightly" || len(sn.Tags) != 1 {
			t.Fatalf("CreateSnapshot: %+v %v", sn, err)
		}
		_, err = srv.NewAccount(t, "b").EC2.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: &vol})
		wantClientError(t, err, "InvalidVolume.NotFound")
		got, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: []types.Filter{flt("volume-id", vol)}})
		if err != nil || len(got.Snapshots) != 1 || got.Snapshots[0].State != types.SnapshotStatePending {
			t.Errorf("DescribeSnapshots volume-id: %+v %v", got, err)
		}

		inst := aws.ToString(run(t, c, &ec2.RunInstancesInput{ImageId: &img, BlockDeviceMappings: []types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(2)}}}}).Instances[0].InstanceId)
		all, err := c.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{InstanceSpecification: &types.InstanceSpecification{InstanceId: &inst}, Description: aws.String("all")})
		if err != nil || len(all.Snapshots) != 2 {
			t.Fatalf("CreateSnapshots: %+v %v", all, err)
		}
		data, err := c.CreateSnapshots(ctx, &ec2.CreateSnapshotsInput{InstanceSpecification: &types.InstanceSpecification{InstanceId: &inst, ExcludeBootVolume: aws.Bool(true)}})
		if err != nil || len(data.Snapshots) != 1 || aws.ToInt32(data.Snapshots[0].VolumeSize) != 2 {
			t.Fatalf("CreateSnapshots without the boot volume: %+v %v", data, err)
		}

		// CopySnapshot of a completed snapshot whose data is in the store.
		_, err = srv.Snapshots.Write(ctx, "snap-0000000000000000c", bytes.NewReader(bytes.Repeat([]byte("x"), 1<<20)), 1<<20, nil)
		if err != nil {
			t.Fatal(err)
		}
		storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) error {
			return tx.InsertSnapshot(ctx, store.Snapshot{ID: "snap-0000000000000000c", AccountID: a.ID, VolumeID: vol, VolumeSize: 1,
				SizeBytes: 1 << 20, State: "completed", Progress: 100})
		})
		_, err = c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceSnapshotId: aws.String("snap-0000000000000000c"), SourceRegion: aws.String("elsewhere-1")})
		wantClientError(t, err, "UnsupportedOperation")
		_, err = c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceSnapshotId: sn.SnapshotId, SourceRegion: aws.String(controllertest.Region)})
		wantClientError(t, err, "IncorrectState")
		cp, err := c.CopySnapshot(ctx, &ec2.CopySnapshotInput{SourceSnapshotId: aws.String("snap-0000000000000000c"), SourceRegion: aws.String(controllertest.Region)})
		if err != nil {
			t.Fatalf("CopySnapshot: %v", err)
		}
		copied, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{aws.ToString(cp.SnapshotId)}})
		if err != nil || copied.Snapshots[0].State != types.SnapshotStateCompleted || aws.ToInt32(copied.Snapshots[0].VolumeSize) != 1 {
			t.Errorf("copied snapshot: %+v %v", copied, err)
		}
		if _, err := srv.Snapshots.Manifest(ctx, aws.ToString(cp.SnapshotId)); err != nil {
			t.Errorf("the copy's manifest: %v", err)
		}
		_, err = c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: cp.SnapshotId})
		step(t, "DeleteSnapshot", err)
		var events []store.UsageEvent
		storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) (err error) {
			events, err = tx.ListUsageEvents(ctx, a.ID)
			return err
		})
		var created, deleted bool
		for _, e := range events {
			if e.ResourceID == aws.ToString(cp.SnapshotId) {
				created = created || e.Event == store.UsageCreate && e.ResourceType == "snapshot" && e.SizeGiB == 1
				deleted = deleted || e.Event == store.UsageDelete
			}
		}
		if !created || !deleted {
			t.Errorf("usage of the copied snapshot: %+v", events)
		}
	})
}
