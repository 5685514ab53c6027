package ec2_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

// demo registers a tiny stand-in kernel and ramdisk as the demo image.
func demo(t *testing.T, srv *controllertest.Server) string {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "vmlinuz"), bytes.Repeat([]byte("k"), 4096), 0o600)
	_ = os.WriteFile(filepath.Join(dir, "initrd.img"), bytes.Repeat([]byte("r"), 8192), 0o600)
	img, err := srv.RegisterDemoImage(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := srv.RegisterDemoImage(context.Background(), dir)
	if err != nil || again.ImageId != img.ImageId || again.Created {
		t.Fatalf("registering the demo twice: %+v %v (first %s)", again, err, img.ImageId)
	}
	return img.ImageId
}

func describeImages(t *testing.T, c *ec2.Client, in *ec2.DescribeImagesInput) []types.Image {
	t.Helper()
	out, err := c.DescribeImages(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out.Images
}

func TestImagesVisibilityAndSharing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.Start(t, b)
		demoID := demo(t, srv)
		a, bb, c := srv.NewAccount(t, "a"), srv.NewAccount(t, "b"), srv.NewAccount(t, "c")

		imgs := describeImages(t, a.EC2, &ec2.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"kumo-*"}}, {Name: aws.String("image-type"), Values: []string{"machine"}}}})
		if len(imgs) != 1 || *imgs[0].ImageId != demoID || !*imgs[0].Public || aws.ToString(imgs[0].ImageOwnerAlias) != "kumo" || imgs[0].KernelId == nil {
			t.Fatalf("demo image as a user sees it: %+v", imgs)
		}
		kernel, ramdisk := *imgs[0].KernelId, *imgs[0].RamdiskId

		reg, err := a.EC2.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("team-a-boot"), KernelId: &kernel, RamdiskId: &ramdisk})
		if err != nil {
			t.Fatal(err)
		}
		mine := *reg.ImageId
		_, err = a.EC2.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("team-a-boot"), KernelId: &kernel})
		wantCode(t, err, "InvalidAMIName.Duplicate")
		_, err = a.EC2.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("x")})
		wantCode(t, err, "InvalidAMIName.Malformed")
		_, err = a.EC2.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("no-root")})
		wantCode(t, err, "InvalidBlockDeviceMapping")
		_, err = a.EC2.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("bad-kernel"), KernelId: aws.String("aki-00000000000000000")})
		wantCode(t, err, "InvalidAKIID.NotFound")

		if got := describeImages(t, a.EC2, &ec2.DescribeImagesInput{Owners: []string{"self"}}); len(got) != 1 || *got[0].ImageId != mine || *got[0].Public {
			t.Fatalf("owners=self: %+v", got)
		}
		_, err = bb.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{mine}})
		wantCode(t, err, "InvalidAMIID.NotFound")
		_, err = bb.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-xyz"}})
		wantCode(t, err, "InvalidAMIID.Malformed")

		_, err = a.EC2.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: &mine,
			LaunchPermission: &types.LaunchPermissionModifications{Add: []types.LaunchPermission{{UserId: &bb.ID}}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := describeImages(t, bb.EC2, &ec2.DescribeImagesInput{ExecutableUsers: []string{"self"}, Owners: []string{a.ID}}); len(got) != 1 || *got[0].ImageId != mine {
			t.Fatalf("B's view of A's shared image: %+v", got)
		}
		if got := describeImages(t, c.EC2, &ec2.DescribeImagesInput{Owners: []string{a.ID}}); len(got) != 0 {
			t.Fatalf("C sees A's private image: %+v", got)
		}
		attr, err := a.EC2.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: &mine, Attribute: types.ImageAttributeNameLaunchPermission})
		if err != nil || len(attr.LaunchPermissions) != 1 || *attr.LaunchPermissions[0].UserId != bb.ID {
			t.Fatalf("launchPermission: %+v %v", attr, err)
		}
		_, err = bb.EC2.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: &mine, Description: &types.AttributeValue{Value: aws.String("mine now")}})
		wantCode(t, err, "AuthFailure")

		// Public, then reset to private.
		_, err = a.EC2.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: &mine, Attribute: aws.String("launchPermission"),
			OperationType: types.OperationTypeAdd, UserGroups: []string{"all"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := describeImages(t, c.EC2, &ec2.DescribeImagesInput{ImageIds: []string{mine}}); len(got) != 1 || !*got[0].Public {
			t.Fatalf("public image not visible to C: %+v", got)
		}
		if _, err := a.EC2.ResetImageAttribute(ctx, &ec2.ResetImageAttributeInput{ImageId: &mine, Attribute: types.ResetImageAttributeNameLaunchPermission}); err != nil {
			t.Fatal(err)
		}
		_, err = c.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{mine}})
		wantCode(t, err, "InvalidAMIID.NotFound")

		// Reset removed B's grant too; share again, copy within the region, then deregister.
		_, err = a.EC2.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: &mine, Attribute: aws.String("launchPermission"),
			OperationType: types.OperationTypeAdd, UserIds: []string{bb.ID}})
		if err != nil {
			t.Fatal(err)
		}
		cp, err := bb.EC2.CopyImage(ctx, &ec2.CopyImageInput{Name: aws.String("b-copy"), SourceImageId: &mine, SourceRegion: aws.String(controllertest.Region)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = bb.EC2.CopyImage(ctx, &ec2.CopyImageInput{Name: aws.String("b-copy2"), SourceImageId: &mine, SourceRegion: aws.String("us-east-1")})
		wantCode(t, err, "InvalidParameterValue")
		if got := describeImages(t, bb.EC2, &ec2.DescribeImagesInput{Owners: []string{"self"}}); len(got) != 1 || *got[0].ImageId != *cp.ImageId {
			t.Fatalf("B's copy: %+v", got)
		}
		_, err = bb.EC2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: &mine})
		wantCode(t, err, "InvalidAMIID.NotFound")
		if _, err := a.EC2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: &mine}); err != nil {
			t.Fatal(err)
		}
		_, err = a.EC2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: &kernel})
		wantCode(t, err, "InvalidAMIID.NotFound")
	})
}

func TestSnapshotsAndImportTasks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		a := srv.NewAccount(t, "a")
		out, err := a.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
		if err != nil || len(out.Snapshots) != 0 {
			t.Fatalf("fresh account's snapshots: %+v %v", out, err)
		}
		_, err = a.EC2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String("snap-00000000000000000")})
		wantCode(t, err, "InvalidSnapshot.NotFound")
		_, err = a.EC2.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{SnapshotId: aws.String("snap-00000000000000000"), Attribute: types.SnapshotAttributeNameCreateVolumePermission})
		wantCode(t, err, "InvalidSnapshot.NotFound")

		_, err = a.EC2.ImportImage(ctx, &ec2.ImportImageInput{DiskContainers: []types.ImageDiskContainer{{Format: aws.String("ova"), UserBucket: &types.UserBucket{S3Bucket: aws.String("b"), S3Key: aws.String("k")}}}})
		wantCode(t, err, "InvalidParameterValue")
		_, err = a.EC2.ImportImage(ctx, &ec2.ImportImageInput{DiskContainers: []types.ImageDiskContainer{{Format: aws.String("raw"), Url: aws.String("http://x/y")}}})
		wantCode(t, err, "UnsupportedOperation")
		task, err := a.EC2.ImportImage(ctx, &ec2.ImportImageInput{ClientToken: aws.String("t1"), Description: aws.String("web"),
			DiskContainers: []types.ImageDiskContainer{{Format: aws.String("qcow2"), UserBucket: &types.UserBucket{S3Bucket: aws.String("b"), S3Key: aws.String("d.qcow2")}}}})
		if err != nil || *task.Status != "active" {
			t.Fatalf("ImportImage: %+v %v", task, err)
		}
		again, err := a.EC2.ImportImage(ctx, &ec2.ImportImageInput{ClientToken: aws.String("t1"), Description: aws.String("web"),
			DiskContainers: []types.ImageDiskContainer{{Format: aws.String("qcow2"), UserBucket: &types.UserBucket{S3Bucket: aws.String("b"), S3Key: aws.String("d.qcow2")}}}})
		if err != nil || *again.ImportTaskId != *task.ImportTaskId {
			t.Fatalf("same ClientToken made another task: %v %v", again.ImportTaskId, err)
		}
		tasks, err := a.EC2.DescribeImportImageTasks(ctx, &ec2.DescribeImportImageTasksInput{ImportTaskIds: []string{*task.ImportTaskId}})
		if err != nil || len(tasks.ImportImageTasks) != 1 || *tasks.ImportImageTasks[0].SnapshotDetails[0].UserBucket.S3Key != "d.qcow2" {
			t.Fatalf("DescribeImportImageTasks: %+v %v", tasks, err)
		}
		other := srv.NewAccount(t, "other")
		_, err = other.EC2.DescribeImportImageTasks(ctx, &ec2.DescribeImportImageTasksInput{ImportTaskIds: []string{*task.ImportTaskId}})
		wantCode(t, err, "InvalidConversionTaskId.Malformed")
		cancel, err := a.EC2.CancelImportTask(ctx, &ec2.CancelImportTaskInput{ImportTaskId: task.ImportTaskId})
		if err != nil || *cancel.State != "deleting" || *cancel.PreviousState != "active" {
			t.Fatalf("CancelImportTask: %+v %v", cancel, err)
		}
		_, err = a.EC2.CancelImportTask(ctx, &ec2.CancelImportTaskInput{ImportTaskId: task.ImportTaskId})
		wantCode(t, err, "IncorrectState")
		snap, err := a.EC2.ImportSnapshot(ctx, &ec2.ImportSnapshotInput{DiskContainer: &types.SnapshotDiskContainer{Format: aws.String("RAW"),
			UserBucket: &types.UserBucket{S3Bucket: aws.String("b"), S3Key: aws.String("d.raw")}}})
		if err != nil || *snap.SnapshotTaskDetail.Status != "active" {
			t.Fatalf("ImportSnapshot: %+v %v", snap, err)
		}
	})
}
