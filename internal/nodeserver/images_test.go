package nodeserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestSnapshotReportsSettleImages: CreateImage's pending image becomes
// available when the node reports every one of its snapshots completed,
// and another fails as soon as one of its snapshots fails.
func TestSnapshotReportsSettleImages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c, _ := h.join(t, "host-1")
		f := seedInstance(t, h.db, c.NodeID())
		now := time.Now().UTC()
		const root, data = "vol-00000000000000031", "vol-00000000000000032"
		snaps := []string{"snap-00000000000000031", "snap-00000000000000032", "snap-00000000000000033"}
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			for _, id := range []string{root, data} {
				if err := tx.InsertVolume(ctx, store.Volume{ID: id, AccountID: f.account, AvailabilityZone: "kumo-1a", SizeGiB: 1,
					VolumeType: "gp2", State: store.VolumeAvailable, Backend: "local", HomeNode: c.NodeID(), CreatedAt: now}); err != nil {
					return err
				}
			}
			for i, id := range snaps {
				vol := root
				if i == 1 {
					vol = data
				}
				if err := tx.InsertSnapshot(ctx, store.Snapshot{ID: id, AccountID: f.account, VolumeID: vol, VolumeSize: 1, State: "pending", CreatedAt: now}); err != nil {
					return err
				}
			}
			for _, im := range []store.Image{
				{ID: "ami-00000000000000031", Name: "two", BlockDevices: []store.BlockDevice{
					{DeviceName: "/dev/xvda", SnapshotID: snaps[0], VolumeSize: 1}, {DeviceName: "/dev/sdf", SnapshotID: snaps[1], VolumeSize: 1}}},
				{ID: "ami-00000000000000032", Name: "one", BlockDevices: []store.BlockDevice{{DeviceName: "/dev/xvda", SnapshotID: snaps[2], VolumeSize: 1}}},
			} {
				im.AccountID, im.ImageType, im.State, im.RootDeviceName, im.RootDeviceType, im.CreatedAt = f.account, "machine", "pending", "/dev/xvda", "ebs", now
				if err := tx.InsertImage(ctx, im); err != nil {
					return err
				}
			}
			return nil
		})
		image := func(id string) store.Image {
			var im store.Image
			if err := h.db.View(t.Context(), func(ctx context.Context, tx *store.Tx) (err error) {
				im, err = tx.GetImage(ctx, id)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return im
		}
		s, err := c.Connect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		recvDesired(t, s, 5*time.Second)
		report := func(sts ...nodeapi.SnapshotStatus) {
			t.Helper()
			if err := s.Send(&nodeapi.Report{Node: nodeInfo("host-1"), Snapshots: sts}); err != nil {
				t.Fatal(err)
			}
		}
		report(nodeapi.SnapshotStatus{SnapshotID: snaps[0], State: nodeapi.SnapshotCompleted, Progress: 100, SizeBytes: 1 << 30},
			nodeapi.SnapshotStatus{SnapshotID: snaps[1], State: nodeapi.SnapshotPending, Progress: 50})
		waitFor(t, "the root snapshot completed", func() bool {
			var sn store.Snapshot
			_ = h.db.View(t.Context(), func(ctx context.Context, tx *store.Tx) (err error) {
				sn, err = tx.GetSnapshot(ctx, snaps[0])
				return err
			})
			return sn.State == "completed"
		})
		if st := image("ami-00000000000000031").State; st != "pending" {
			t.Fatalf("an image with a snapshot still pending is %s", st)
		}
		report(nodeapi.SnapshotStatus{SnapshotID: snaps[1], State: nodeapi.SnapshotCompleted, Progress: 100, SizeBytes: 1 << 30},
			nodeapi.SnapshotStatus{SnapshotID: snaps[2], State: nodeapi.SnapshotError, Reason: "disk on fire"})
		waitFor(t, "the first image available", func() bool { return image("ami-00000000000000031").State == "available" })
		waitFor(t, "the second image failed", func() bool { return image("ami-00000000000000032").State == "failed" })
		if r := image("ami-00000000000000032").StateReason; r == "" {
			t.Error("the failed image says nothing of why")
		}
	})
}
