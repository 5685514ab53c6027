package controller_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// upload puts a local file into a new bucket of the account.
func upload(t *testing.T, srv *controllertest.Server, acct *controllertest.Account, bucket, key, path string) {
	t.Helper()
	cfg := acct.AWSConfig.Copy()
	cfg.BaseEndpoint = aws.String(srv.S3Endpoint)
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

// waitImport polls the task until it leaves "active".
func waitImport(t *testing.T, c *ec2.Client, id string) types.ImportImageTask {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := c.DescribeImportImageTasks(context.Background(), &ec2.DescribeImportImageTasksInput{ImportTaskIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		task := out.ImportImageTasks[0]
		if aws.ToString(task.Status) != "active" || time.Now().After(deadline) {
			return task
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestImportImageFromS3(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img is not installed (apt-get install qemu-utils); imports convert with it")
	}
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.Start(t, b)
		acct := srv.NewAccount(t, "team-a")
		dir := t.TempDir()
		raw := make([]byte, 5<<20)
		_, _ = rand.Read(raw[1<<20 : 2<<20])
		copy(raw[4<<20:], "the end of the disk")
		rawPath, qcow := filepath.Join(dir, "d.raw"), filepath.Join(dir, "d.qcow2")
		_ = os.WriteFile(rawPath, raw, 0o600)
		if out, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "qcow2", rawPath, qcow).CombinedOutput(); err != nil {
			t.Fatalf("qemu-img: %v %s", err, out)
		}
		upload(t, srv, acct, "team-a-images", "disk.qcow2", qcow)
		_ = os.WriteFile(filepath.Join(dir, "notes.txt"), bytes.Repeat([]byte("not a disk\n"), 500), 0o600)
		upload(t, srv, acct, "team-a-junk", "notes.txt", filepath.Join(dir, "notes.txt"))

		started, err := acct.EC2.ImportImage(ctx, &ec2.ImportImageInput{Description: aws.String("web"), DiskContainers: []types.ImageDiskContainer{{
			Format: aws.String("qcow2"), UserBucket: &types.UserBucket{S3Bucket: aws.String("team-a-images"), S3Key: aws.String("disk.qcow2")}}}})
		if err != nil {
			t.Fatal(err)
		}
		task := waitImport(t, acct.EC2, *started.ImportTaskId)
		if aws.ToString(task.Status) != "completed" || task.ImageId == nil {
			t.Fatalf("import ended %s: %s", aws.ToString(task.Status), aws.ToString(task.StatusMessage))
		}
		imgs, err := acct.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{*task.ImageId}})
		if err != nil || len(imgs.Images) != 1 || imgs.Images[0].State != types.ImageStateAvailable {
			t.Fatalf("imported image: %+v %v", imgs, err)
		}
		snapID := *imgs.Images[0].BlockDeviceMappings[0].Ebs.SnapshotId
		snaps, err := acct.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snapID}})
		if err != nil || snaps.Snapshots[0].State != types.SnapshotStateCompleted || *snaps.Snapshots[0].VolumeSize != 1 {
			t.Fatalf("snapshot: %+v %v", snaps, err)
		}
		m, err := srv.Snapshots.Manifest(ctx, snapID)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "back.raw")
		f, _ := os.Create(out)
		if err := srv.Snapshots.ReadTo(ctx, m, f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if got, _ := os.ReadFile(out); !bytes.Equal(got, raw) {
			t.Fatal("the snapshot does not hold the bytes of the imported disk")
		}
		_, err = acct.EC2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: &snapID})
		if code := errCode(err); code != "InvalidSnapshot.InUse" {
			t.Fatalf("deleting the image's snapshot: %v, want InvalidSnapshot.InUse", err)
		}

		// Another account sees the snapshot only once it is shared, and never changes it.
		other := srv.NewAccount(t, "team-b")
		_, err = other.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snapID}})
		if code := errCode(err); code != "InvalidSnapshot.NotFound" {
			t.Fatalf("B describing A's snapshot: %v", err)
		}
		_, err = other.EC2.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: &snapID,
			CreateVolumePermission: &types.CreateVolumePermissionModifications{Add: []types.CreateVolumePermission{{UserId: &other.ID}}}})
		if code := errCode(err); code != "InvalidSnapshot.NotFound" {
			t.Fatalf("B sharing A's snapshot with itself: %v", err)
		}
		_, err = acct.EC2.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: &snapID,
			CreateVolumePermission: &types.CreateVolumePermissionModifications{Add: []types.CreateVolumePermission{{UserId: &other.ID}}}})
		if err != nil {
			t.Fatal(err)
		}
		shared, err := other.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{RestorableByUserIds: []string{"self"}})
		if err != nil || len(shared.Snapshots) != 1 || *shared.Snapshots[0].SnapshotId != snapID {
			t.Fatalf("B's view of the shared snapshot: %+v %v", shared, err)
		}
		attr, err := acct.EC2.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{SnapshotId: &snapID, Attribute: types.SnapshotAttributeNameCreateVolumePermission})
		if err != nil || len(attr.CreateVolumePermissions) != 1 || *attr.CreateVolumePermissions[0].UserId != other.ID {
			t.Fatalf("createVolumePermission: %+v %v", attr, err)
		}
		_, err = other.EC2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: &snapID})
		if code := errCode(err); code != "InvalidSnapshot.NotFound" {
			t.Fatalf("B deleting A's shared snapshot: %v", err)
		}

		// A file that is not a disk, and another account's bucket, end the task deleted with a reason.
		for _, tc := range []struct {
			acct          *controllertest.Account
			bucket, key   string
			wantInMessage string
		}{
			{acct, "team-a-junk", "notes.txt", "ClientError"},
			{other, "team-a-images", "disk.qcow2", "ClientError"},
		} {
			started, err := tc.acct.EC2.ImportImage(ctx, &ec2.ImportImageInput{DiskContainers: []types.ImageDiskContainer{{
				UserBucket: &types.UserBucket{S3Bucket: &tc.bucket, S3Key: &tc.key}}}})
			if err != nil {
				t.Fatal(err)
			}
			task := waitImport(t, tc.acct.EC2, *started.ImportTaskId)
			if aws.ToString(task.Status) != "deleted" || !bytes.Contains([]byte(aws.ToString(task.StatusMessage)), []byte(tc.wantInMessage)) {
				t.Errorf("%s/%s: ended %s %q", tc.bucket, tc.key, aws.ToString(task.Status), aws.ToString(task.StatusMessage))
			}
		}
	})
}
