package ec2_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func createVolume(t *testing.T, c *ec2.Client, in *ec2.CreateVolumeInput) *ec2.CreateVolumeOutput {
	t.Helper()
	if in.AvailabilityZone == nil {
		in.AvailabilityZone = aws.String("kumo-1a")
	}
	out, err := c.CreateVolume(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	return out
}

func describeVolume(t *testing.T, c *ec2.Client, id string) types.Volume {
	t.Helper()
	out, err := c.DescribeVolumes(context.Background(), &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeVolumes %s: %v", id, err)
	}
	if len(out.Volumes) != 1 {
		t.Fatalf("DescribeVolumes %s: %+v", id, out.Volumes)
	}
	return out.Volumes[0]
}

// TestCreateVolumeTypes checks each type's defaults and AWS's ranges.
func TestCreateVolumeTypes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		c := srv.NewAccount(t, "a").EC2
		defaults := []struct {
			typ              types.VolumeType
			size             int32
			iops, throughput int32
		}{
			{"", 10, 100, 0},         // gp2 by default: 3 IOPS per GiB, at least 100
			{"gp2", 100, 300, 0},     // baseline 3 per GiB
			{"gp3", 10, 3000, 125},   // gp3's baseline
			{"standard", 1, 0, 0},    // no IOPS
			{"st1", 125, 0, 0},       // at least 125 GiB
			{"sc1", 16384, 0, 0},     // at most 16 TiB
			{"gp2", 16384, 16000, 0}, // gp2's IOPS top out at 16000
		}
		for _, d := range defaults {
			v := createVolume(t, c, &ec2.CreateVolumeInput{Size: aws.Int32(d.size), VolumeType: d.typ})
			want := d.typ
			if want == "" {
				want = "gp2"
			}
			if v.VolumeType != want || aws.ToInt32(v.Size) != d.size || aws.ToInt32(v.Iops) != d.iops || aws.ToInt32(v.Throughput) != d.throughput ||
				v.State != types.VolumeStateAvailable || aws.ToString(v.AvailabilityZone) != "kumo-1a" || aws.ToBool(v.Encrypted) {
				t.Errorf("CreateVolume %s %d: type %s size %d iops %d throughput %d state %s", d.typ, d.size, v.VolumeType,
					aws.ToInt32(v.Size), aws.ToInt32(v.Iops), aws.ToInt32(v.Throughput), v.State)
			}
		}
		io2 := createVolume(t, c, &ec2.CreateVolumeInput{Size: aws.Int32(100), VolumeType: "io2", Iops: aws.Int32(64000), MultiAttachEnabled: aws.Bool(true)})
		if aws.ToInt32(io2.Iops) != 64000 || !aws.ToBool(io2.MultiAttachEnabled) {
			t.Errorf("io2: %+v", io2)
		}
		bad := []struct {
			name string
			in   *ec2.CreateVolumeInput
			code string
		}{
			{"no size", &ec2.CreateVolumeInput{}, "MissingParameter"},
			{"bad zone", &ec2.CreateVolumeInput{AvailabilityZone: aws.String("kumo-1z"), Size: aws.Int32(1)}, "InvalidParameterValue"},
			{"bad type", &ec2.CreateVolumeInput{Size: aws.Int32(1), VolumeType: "gp9"}, "InvalidParameterValue"},
			{"gp3 too big", &ec2.CreateVolumeInput{Size: aws.Int32(16385), VolumeType: "gp3"}, "InvalidParameterValue"},
			{"zero size", &ec2.CreateVolumeInput{Size: aws.Int32(0)}, "InvalidParameterValue"},
			{"st1 too small", &ec2.CreateVolumeInput{Size: aws.Int32(124), VolumeType: "st1"}, "InvalidParameterValue"},
			{"standard too big", &ec2.CreateVolumeInput{Size: aws.Int32(1025), VolumeType: "standard"}, "InvalidParameterValue"},
			{"io1 too small", &ec2.CreateVolumeInput{Size: aws.Int32(3), VolumeType: "io1", Iops: aws.Int32(100)}, "InvalidParameterValue"},
			{"io1 without iops", &ec2.CreateVolumeInput{Size: aws.Int32(10), VolumeType: "io1"}, "MissingParameter"},
			{"io1 ratio", &ec2.CreateVolumeInput{Size: aws.Int32(10), VolumeType: "io1", Iops: aws.Int32(501)}, "InvalidParameterValue"},
			{"gp3 iops low", &ec2.CreateVolumeInput{Size: aws.Int32(10), VolumeType: "gp3", Iops: aws.Int32(2999)}, "InvalidParameterValue"},
			{"gp3 iops high", &ec2.CreateVolumeInput{Size: aws.Int32(100), VolumeType: "gp3", Iops: aws.Int32(16001)}, "InvalidParameterValue"},
			{"gp3 throughput high", &ec2.CreateVolumeInput{Size: aws.Int32(100), VolumeType: "gp3", Iops: aws.Int32(16000), Throughput: aws.Int32(1001)}, "InvalidParameterValue"},
			{"gp3 throughput per iops", &ec2.CreateVolumeInput{Size: aws.Int32(100), VolumeType: "gp3", Throughput: aws.Int32(1000)}, "InvalidParameterValue"},
			{"gp2 iops", &ec2.CreateVolumeInput{Size: aws.Int32(10), VolumeType: "gp2", Iops: aws.Int32(300)}, "InvalidParameterValue"},
			{"gp2 throughput", &ec2.CreateVolumeInput{Size: aws.Int32(10), Throughput: aws.Int32(200)}, "InvalidParameterValue"},
			{"gp3 multi-attach", &ec2.CreateVolumeInput{Size: aws.Int32(10), VolumeType: "gp3", MultiAttachEnabled: aws.Bool(true)}, "InvalidParameterCombination"},
			{"unknown snapshot", &ec2.CreateVolumeInput{SnapshotId: aws.String("snap-0123456789abcdef0")}, "InvalidSnapshot.NotFound"},
			{"malformed snapshot", &ec2.CreateVolumeInput{SnapshotId: aws.String("vol-1")}, "InvalidSnapshotID.Malformed"},
			{"wrong tag type", &ec2.CreateVolumeInput{Size: aws.Int32(1), TagSpecifications: []types.TagSpecification{{ResourceType: "instance"}}}, "InvalidParameterValue"},
		}
		for _, tc := range bad {
			if tc.in.AvailabilityZone == nil {
				tc.in.AvailabilityZone = aws.String("kumo-1a")
			}
			_, err := c.CreateVolume(ctx, tc.in)
			if err == nil {
				t.Errorf("%s: CreateVolume succeeded", tc.name)
				continue
			}
			wantClientError(t, err, tc.code)
		}
		_, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("kumo-1a"), Size: aws.Int32(51201), VolumeType: "io2", Iops: aws.Int32(1000)})
		wantClientError(t, err, "VolumeLimitExceeded")
	})
}

// TestVolumeSnapshotsAndAccounts: a volume from a snapshot takes its size
// and may not be smaller; another account's volumes and snapshots are
// NotFound everywhere.
func TestVolumeSnapshotsAndAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		srv := controllertest.StartAPIOnly(t, b)
		a, other := srv.NewAccount(t, "a"), srv.NewAccount(t, "b")
		storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) error {
			return tx.InsertSnapshot(ctx, store.Snapshot{ID: "snap-0000000000000000a", AccountID: a.ID, VolumeID: "vol-ffffffff",
				VolumeSize: 8, SizeBytes: 1 << 20, State: "completed", Progress: 100})
		})
		v := createVolume(t, a.EC2, &ec2.CreateVolumeInput{SnapshotId: aws.String("snap-0000000000000000a"), VolumeType: "gp3",
			TagSpecifications: []types.TagSpecification{{ResourceType: "volume", Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}}})
		if aws.ToInt32(v.Size) != 8 || aws.ToString(v.SnapshotId) != "snap-0000000000000000a" || len(v.Tags) != 1 {
			t.Errorf("volume from a snapshot: %+v", v)
		}
		_, err := a.EC2.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("kumo-1b"), SnapshotId: aws.String("snap-0000000000000000a"), Size: aws.Int32(7)})
		wantClientError(t, err, "InvalidParameterValue")
		big := createVolume(t, a.EC2, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("kumo-1b"), SnapshotId: aws.String("snap-0000000000000000a"), Size: aws.Int32(20)})
		if aws.ToInt32(big.Size) != 20 || aws.ToString(big.AvailabilityZone) != "kumo-1b" {
			t.Errorf("a larger volume from a snapshot in another zone: %+v", big)
		}
		_, err = other.EC2.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("kumo-1a"), SnapshotId: aws.String("snap-0000000000000000a")})
		wantClientError(t, err, "InvalidSnapshot.NotFound")

		id := aws.ToString(v.VolumeId)
		_, err = other.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
		wantClientError(t, err, "InvalidVolume.NotFound")
		all, err := other.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
		if err != nil || len(all.Volumes) != 0 {
			t.Errorf("another account's DescribeVolumes: %+v %v", all, err)
		}
		_, err = other.EC2.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: &id})
		wantClientError(t, err, "InvalidVolume.NotFound")
		_, err = other.EC2.ModifyVolume(ctx, &ec2.ModifyVolumeInput{VolumeId: &id, Size: aws.Int32(30)})
		wantClientError(t, err, "InvalidVolume.NotFound")
		_, err = other.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		wantClientError(t, err, "InvalidVolume.NotFound")
		_, err = other.EC2.DescribeVolumeAttribute(ctx, &ec2.DescribeVolumeAttributeInput{VolumeId: &id, Attribute: "autoEnableIO"})
		wantClientError(t, err, "InvalidVolume.NotFound")
		_, err = other.EC2.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: &id})
		wantClientError(t, err, "InvalidVolume.NotFound")

		// Filters, tags and pages.
		for name, f := range map[string]types.Filter{"tag": flt("tag:team", "blue"), "tag-key": flt("tag-key", "team"),
			"size": flt("size", "8"), "type": flt("volume-type", "gp3"), "unattached": flt("attachment.status", "attached", "attaching", "detaching"),
			"zone": flt("availability-zone", "kumo-1a")} {
			out, err := a.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{f}})
			if name == "unattached" && err == nil && len(out.Volumes) == 0 {
				continue // nothing attached
			}
			if err != nil || len(out.Volumes) != 1 || aws.ToString(out.Volumes[0].VolumeId) != id {
				t.Errorf("filter %s: %+v %v", name, out, err)
			}
		}
		for range 5 {
			createVolume(t, a.EC2, &ec2.CreateVolumeInput{Size: aws.Int32(1)})
		}
		p1, err := a.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(5)})
		if err != nil || len(p1.Volumes) != 5 || p1.NextToken == nil {
			t.Fatalf("first page: %+v %v", p1, err)
		}
		p2, err := a.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(5), NextToken: p1.NextToken})
		if err != nil || len(p2.Volumes) != 2 || p2.NextToken != nil {
			t.Fatalf("second page: %+v %v", p2, err)
		}
		_, err = a.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(4)})
		wantClientError(t, err, "InvalidParameterValue")
		_, err = a.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{flt("nope", "x")}})
		wantClientError(t, err, "InvalidParameterValue")

		// Attributes and status.
		_, err = a.EC2.ModifyVolumeAttribute(ctx, &ec2.ModifyVolumeAttributeInput{VolumeId: &id, AutoEnableIO: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
		step(t, "ModifyVolumeAttribute", err)
		attr, err := a.EC2.DescribeVolumeAttribute(ctx, &ec2.DescribeVolumeAttributeInput{VolumeId: &id, Attribute: "autoEnableIO"})
		if err != nil || !aws.ToBool(attr.AutoEnableIO.Value) {
			t.Errorf("autoEnableIO: %+v %v", attr, err)
		}
		pc, err := a.EC2.DescribeVolumeAttribute(ctx, &ec2.DescribeVolumeAttributeInput{VolumeId: &id, Attribute: "productCodes"})
		if err != nil || len(pc.ProductCodes) != 0 {
			t.Errorf("productCodes: %+v %v", pc, err)
		}
		_, err = a.EC2.EnableVolumeIO(ctx, &ec2.EnableVolumeIOInput{VolumeId: &id})
		step(t, "EnableVolumeIO", err)
		st, err := a.EC2.DescribeVolumeStatus(ctx, &ec2.DescribeVolumeStatusInput{VolumeIds: []string{id}})
		if err != nil || len(st.VolumeStatuses) != 1 || st.VolumeStatuses[0].VolumeStatus.Status != types.VolumeStatusInfoStatusOk {
			t.Errorf("DescribeVolumeStatus: %+v %v", st, err)
		}

		// Delete: gone at once (no node holds its data), then NotFound.
		_, err = a.EC2.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: &id})
		step(t, "DeleteVolume", err)
		_, err = a.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
		wantClientError(t, err, "InvalidVolume.NotFound")
		_, err = a.EC2.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: &id})
		wantClientError(t, err, "InvalidVolume.NotFound")
		_, err = a.EC2.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String("i-123")})
		wantClientError(t, err, "InvalidVolumeID.Malformed")

		// The usage ledger saw the volume come and go.
		var events []store.UsageEvent
		err = srv.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
			events, err = tx.ListUsageEvents(ctx, a.ID)
			return err
		})
		var created, deleted bool
		for _, e := range events {
			if e.ResourceID == id {
				created = created || e.Event == store.UsageCreate && e.SizeGiB == 8 && e.VolumeType == "gp3"
				deleted = deleted || e.Event == store.UsageDelete
			}
		}
		if err != nil || !created || !deleted {
			t.Errorf("usage events of %s: %+v %v", id, events, err)
		}
	})
}
