package nodeserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

const testVol = "vol-0000000000000000a"

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) desired(t *testing.T, nodeID string) *nodeapi.Desired {
	t.Helper()
	d, err := h.srv.Desired(t.Context(), nodeID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (h *harness) volume(t *testing.T, id string) (store.Volume, []store.VolumeAttachment, bool) {
	t.Helper()
	var v store.Volume
	var atts []store.VolumeAttachment
	found := true
	err := h.db.View(t.Context(), func(ctx context.Context, tx *store.Tx) error {
		var err error
		v, err = tx.GetVolumeAnyAccount(ctx, id)
		if err == store.ErrNotFound {
			found = false
			return nil
		}
		if err != nil {
			return err
		}
		atts, err = tx.VolumeAttachmentsOf(ctx, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, atts, found
}

func instSpec(d *nodeapi.Desired, id string) (nodeapi.InstanceSpec, bool) {
	for _, sp := range d.Instances {
		if sp.ID == id {
			return sp, true
		}
	}
	return nodeapi.InstanceSpec{}, false
}

func volSpec(d *nodeapi.Desired, id string) (nodeapi.VolumeSpec, bool) {
	for _, v := range d.Volumes {
		if v.VolumeID == id {
			return v, true
		}
	}
	return nodeapi.VolumeSpec{}, false
}

// TestVolumeLifeAcrossNodes walks a volume through the node protocol with
// fake reports: made by the first node it is attached on, detached,
// copied to an instance on another node from the home's NBD export, its
// old copy deleted, then deleted through its new home.
func TestVolumeLifeAcrossNodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c1, _ := h.join(t, "host-1")
		c2, _ := h.join(t, "host-2")
		n1, n2 := c1.NodeID(), c2.NodeID()
		f := seedInstance(t, h.db, n1)
		const i2 = "i-00000000000000002"
		now := time.Now().UTC()
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.InsertInstance(ctx, store.Instance{ID: i2, AccountID: f.account, ReservationID: "r-00000000000000002", ImageID: "ami-00000000000000001",
				RootDeviceName: "/dev/xvda", RootDeviceType: "ebs", RootSizeGiB: 8, InstanceType: "t3.micro", VCPUs: 2, MemoryMiB: 1024,
				AvailabilityZone: "kumo-1a", VPCID: f.vpc, SubnetID: f.subnet, State: "running", StateChangedAt: now, ShutdownBehavior: "stop",
				NodeID: n2, DesiredPower: "running", LaunchTime: now, CreatedAt: now}); err != nil {
				return err
			}
			// The root volume of the first instance, and a data volume attaching to it.
			if err := tx.InsertVolume(ctx, store.Volume{ID: "vol-00000000000000001", AccountID: f.account, AvailabilityZone: "kumo-1a", SizeGiB: 8,
				VolumeType: "gp2", IOPS: 100, State: store.VolumeInUse, Backend: "local", HomeNode: n1, RootInstance: f.instance, CreatedAt: now}); err != nil {
				return err
			}
			if err := tx.InsertVolumeAttachment(ctx, store.VolumeAttachment{VolumeID: "vol-00000000000000001", InstanceID: f.instance, AccountID: f.account,
				Device: "/dev/xvda", State: store.AttachmentAttached, DeleteOnTermination: true, AttachTime: now}); err != nil {
				return err
			}
			if err := tx.InsertVolume(ctx, store.Volume{ID: testVol, AccountID: f.account, AvailabilityZone: "kumo-1a", SizeGiB: 10,
				VolumeType: "gp3", IOPS: 3000, Throughput: 125, State: store.VolumeInUse, Backend: "local", CreatedAt: now}); err != nil {
				return err
			}
			return tx.InsertVolumeAttachment(ctx, store.VolumeAttachment{VolumeID: testVol, InstanceID: f.instance, AccountID: f.account,
				Device: "/dev/sdf", State: store.AttachmentAttaching, AttachTime: now})
		})
		s1, err := c1.Connect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		s2, err := c2.Connect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		recvDesired(t, s1, 5*time.Second)
		recvDesired(t, s2, 5*time.Second)

		// 1. The first node makes the data (no Source: the volume is new).
		sp, _ := instSpec(h.desired(t, n1), f.instance)
		want := nodeapi.VolumeAttachment{VolumeData: nodeapi.VolumeData{VolumeID: testVol, SizeBytes: 10 << 30, Backend: "local", IOPS: 3000, ThroughputMiB: 125}, Device: "/dev/sdf"}
		if sp.RootVolumeID != "vol-00000000000000001" || len(sp.Volumes) != 1 || sp.Volumes[0] != want {
			t.Fatalf("spec of the first instance: root %q volumes %+v, want %+v", sp.RootVolumeID, sp.Volumes, want)
		}
		send := func(s nodeapi.Session, name string, r *nodeapi.Report) {
			t.Helper()
			r.Node = nodeInfo(name)
			if err := s.Send(r); err != nil {
				t.Fatal(err)
			}
		}
		send(s1, "host-1", &nodeapi.Report{Instances: []nodeapi.InstanceStatus{{ID: f.instance, State: nodeapi.ObservedRunning,
			Volumes: []nodeapi.VolumeAttachmentStatus{{VolumeID: testVol, State: nodeapi.AttachAttached, SizeBytes: 10 << 30}}}},
			Volumes: []nodeapi.VolumeStatus{{VolumeID: testVol, SizeBytes: 10 << 30}}})
		waitFor(t, "attached and homed on host-1", func() bool {
			v, atts, _ := h.volume(t, testVol)
			return v.HomeNode == n1 && len(atts) == 1 && atts[0].State == store.AttachmentAttached
		})
		if _, ok := volSpec(h.desired(t, n1), testVol); ok {
			t.Errorf("a volume attached on its home is in Desired.Volumes too")
		}

		// 2. Detach: the node is told, the volume is available once it lets go.
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			return tx.UpdateVolumeAttachment(ctx, store.VolumeAttachment{VolumeID: testVol, InstanceID: f.instance, State: store.AttachmentDetaching})
		})
		sp, _ = instSpec(h.desired(t, n1), f.instance)
		if len(sp.Volumes) != 1 || !sp.Volumes[0].Detach {
			t.Fatalf("detaching: %+v", sp.Volumes)
		}
		send(s1, "host-1", &nodeapi.Report{Instances: []nodeapi.InstanceStatus{{ID: f.instance, State: nodeapi.ObservedRunning}},
			Volumes: []nodeapi.VolumeStatus{{VolumeID: testVol, SizeBytes: 10 << 30}}})
		waitFor(t, "detached", func() bool {
			v, atts, _ := h.volume(t, testVol)
			return v.State == store.VolumeAvailable && len(atts) == 0
		})
		if vs, ok := volSpec(h.desired(t, n1), testVol); !ok || vs.Export || vs.Delete {
			t.Errorf("an unattached volume is kept on its home: %+v %v", vs, ok)
		}

		// 3. Attach on the other node: the home exports, the new node copies.
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			return tx.InsertVolumeAttachment(ctx, store.VolumeAttachment{VolumeID: testVol, InstanceID: i2, AccountID: f.account,
				Device: "/dev/sdg", State: store.AttachmentAttaching, AttachTime: now})
		})
		if sp, _ := instSpec(h.desired(t, n2), i2); len(sp.Volumes) != 0 {
			t.Errorf("the new node got the attachment before the home exports it: %+v", sp.Volumes)
		}
		if vs, ok := volSpec(h.desired(t, n1), testVol); !ok || !vs.Export {
			t.Fatalf("the home is not asked to export: %+v", vs)
		}
		const url = "nbd://192.0.2.10:10809/" + testVol
		send(s1, "host-1", &nodeapi.Report{Instances: []nodeapi.InstanceStatus{{ID: f.instance, State: nodeapi.ObservedRunning}},
			Volumes: []nodeapi.VolumeStatus{{VolumeID: testVol, SizeBytes: 10 << 30, Export: url}}})
		waitFor(t, "the new node gets the export as Source", func() bool {
			sp, _ := instSpec(h.desired(t, n2), i2)
			return len(sp.Volumes) == 1 && sp.Volumes[0].Source == url && sp.Volumes[0].Device == "/dev/sdg"
		})
		send(s2, "host-2", &nodeapi.Report{Instances: []nodeapi.InstanceStatus{{ID: i2, State: nodeapi.ObservedRunning,
			Volumes: []nodeapi.VolumeAttachmentStatus{{VolumeID: testVol, State: nodeapi.AttachAttached, SizeBytes: 10 << 30}}}},
			Volumes: []nodeapi.VolumeStatus{{VolumeID: testVol, SizeBytes: 10 << 30}}})
		waitFor(t, "home moved to host-2", func() bool {
			v, atts, _ := h.volume(t, testVol)
			return v.HomeNode == n2 && len(atts) == 1 && atts[0].State == store.AttachmentAttached
		})
		if vs, ok := volSpec(h.desired(t, n1), testVol); !ok || !vs.Delete {
			t.Fatalf("the old home is not told to delete its copy: %+v %v", vs, ok)
		}
		if sp, _ := instSpec(h.desired(t, n2), i2); len(sp.Volumes) != 1 || sp.Volumes[0].Source != "" {
			t.Errorf("after the move the data is local to host-2: %+v", sp.Volumes)
		}
		send(s1, "host-1", &nodeapi.Report{Instances: []nodeapi.InstanceStatus{{ID: f.instance, State: nodeapi.ObservedRunning}},
			Volumes: []nodeapi.VolumeStatus{{VolumeID: testVol, Deleted: true}}})
		waitFor(t, "the old copy forgotten", func() bool {
			_, ok := volSpec(h.desired(t, n1), testVol)
			return !ok
		})

		// 4. Terminating the second instance releases the volume (no
		// DeleteOnTermination); DeleteVolume then goes through its home.
		setInstance(t, h.db, f.account, i2, func(i *store.Instance) { i.State, i.DesiredPower = "shutting-down", "terminated" })
		send(s2, "host-2", &nodeapi.Report{Instances: []nodeapi.InstanceStatus{{ID: i2, State: nodeapi.ObservedDeleted}},
			Volumes: []nodeapi.VolumeStatus{{VolumeID: testVol, SizeBytes: 10 << 30}}})
		waitFor(t, "released by the terminated instance", func() bool {
			v, atts, _ := h.volume(t, testVol)
			return v.State == store.VolumeAvailable && len(atts) == 0
		})
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			v, err := tx.GetVolumeAnyAccount(ctx, testVol)
			if err != nil {
				return err
			}
			v.State = store.VolumeDeleting
			return tx.UpdateVolume(ctx, v)
		})
		if vs, ok := volSpec(h.desired(t, n2), testVol); !ok || !vs.Delete {
			t.Fatalf("the home is not told to delete: %+v %v", vs, ok)
		}
		send(s2, "host-2", &nodeapi.Report{Volumes: []nodeapi.VolumeStatus{{VolumeID: testVol, Deleted: true}}})
		waitFor(t, "the volume gone", func() bool {
			_, _, found := h.volume(t, testVol)
			return !found
		})
	})
}

// TestSnapshotTasks: a pending snapshot of a volume goes to the node that
// holds its data (with the volume's previous snapshot as parent), and the
// node's reports move it to completed with its size and usage recorded.
func TestSnapshotTasks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c1, _ := h.join(t, "host-1")
		c2, _ := h.join(t, "host-2")
		n1, n2 := c1.NodeID(), c2.NodeID()
		f := seedInstance(t, h.db, n1)
		now := time.Now().UTC()
		const rootVol = "vol-00000000000000001"
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			for _, v := range []store.Volume{
				{ID: testVol, AccountID: f.account, AvailabilityZone: "kumo-1a", SizeGiB: 4, VolumeType: "gp2", State: store.VolumeAvailable,
					Backend: "local", HomeNode: n2, CreatedAt: now},
				{ID: rootVol, AccountID: f.account, AvailabilityZone: "kumo-1a", SizeGiB: 8, VolumeType: "gp2", State: store.VolumeInUse,
					Backend: "local", HomeNode: "node-elsewhere", RootInstance: f.instance, CreatedAt: now},
			} {
				if err := tx.InsertVolume(ctx, v); err != nil {
					return err
				}
			}
			for _, s := range []store.Snapshot{
				{ID: "snap-00000000000000011", AccountID: f.account, VolumeID: testVol, VolumeSize: 4, State: "completed", Progress: 100, CreatedAt: now.Add(-time.Hour)},
				{ID: "snap-00000000000000012", AccountID: f.account, VolumeID: testVol, VolumeSize: 4, State: "pending", CreatedAt: now},
				{ID: "snap-00000000000000013", AccountID: f.account, VolumeID: rootVol, VolumeSize: 8, State: "pending", CreatedAt: now},
			} {
				if err := tx.InsertSnapshot(ctx, s); err != nil {
					return err
				}
			}
			return nil
		})
		d2 := h.desired(t, n2)
		if len(d2.Snapshots) != 1 || d2.Snapshots[0] != (nodeapi.SnapshotTask{SnapshotID: "snap-00000000000000012", VolumeID: testVol, Parent: "snap-00000000000000011"}) {
			t.Fatalf("the home's snapshot tasks: %+v", d2.Snapshots)
		}
		if d1 := h.desired(t, n1); len(d1.Snapshots) != 1 || d1.Snapshots[0].VolumeID != rootVol || d1.Snapshots[0].Parent != "" {
			t.Fatalf("the root volume's snapshot goes to its instance's node: %+v", d1.Snapshots)
		}
		s2, err := c2.Connect(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		recvDesired(t, s2, 5*time.Second)
		snap := func() store.Snapshot {
			var sn store.Snapshot
			if err := h.db.View(t.Context(), func(ctx context.Context, tx *store.Tx) (err error) {
				sn, err = tx.GetSnapshot(ctx, "snap-00000000000000012")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return sn
		}
		report := func(st nodeapi.SnapshotStatus) {
			t.Helper()
			if err := s2.Send(&nodeapi.Report{Node: nodeInfo("host-2"), Snapshots: []nodeapi.SnapshotStatus{st}}); err != nil {
				t.Fatal(err)
			}
		}
		report(nodeapi.SnapshotStatus{SnapshotID: "snap-00000000000000012", State: nodeapi.SnapshotPending, Progress: 40})
		waitFor(t, "progress 40%", func() bool { return snap().Progress == 40 })
		// DeleteVolume meanwhile: the data stays until the snapshot is done.
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			v, err := tx.GetVolumeAnyAccount(ctx, testVol)
			if err != nil {
				return err
			}
			v.State = store.VolumeDeleting
			return tx.UpdateVolume(ctx, v)
		})
		if vs, ok := volSpec(h.desired(t, n2), testVol); !ok || vs.Delete {
			t.Errorf("a volume being snapshotted is deleted: %+v %v", vs, ok)
		}
		report(nodeapi.SnapshotStatus{SnapshotID: "snap-00000000000000012", State: nodeapi.SnapshotCompleted, Progress: 100, SizeBytes: 4 << 30, Uploaded: 1 << 20})
		waitFor(t, "completed", func() bool { s := snap(); return s.State == "completed" && s.Progress == 100 && s.SizeBytes == 4<<30 })
		if d := h.desired(t, n2); len(d.Snapshots) != 0 {
			t.Errorf("a completed snapshot is still a task: %+v", d.Snapshots)
		}
		if vs, ok := volSpec(h.desired(t, n2), testVol); !ok || !vs.Delete {
			t.Errorf("after the snapshot the deleted volume's data goes: %+v %v", vs, ok)
		}
		var events []store.UsageEvent
		if err := h.db.View(t.Context(), func(ctx context.Context, tx *store.Tx) (err error) {
			events, err = tx.ListUsageEvents(ctx, f.account)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range events {
			found = found || e.ResourceID == "snap-00000000000000012" && e.Event == store.UsageCreate && e.SizeGiB == 4
		}
		if !found {
			t.Errorf("no usage for the completed snapshot: %+v", events)
		}
	})
}
