package node

// Volume snapshots through two real agents sharing one object store and
// real demo guests under TCG: A's guest writes a random first MiB to an
// attached volume; A snapshots it while attached (through the guest's
// QEMU) together with the guest's root disk (one after the other: one NBD
// server per QEMU), then the volume again detached (as a file,
// incremental on the first); B boots a guest whose root disk is A's root
// snapshot with a volume created from the second snapshot, and its guest
// reads back exactly the bytes A's guest wrote (what CreateImage and
// RunInstances of the image do).

import (
	"slices"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/images/demo/demotest"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/snapshot"
)

const (
	testSnap1 = "snap-0123456789abcdef1"
	testSnap2 = "snap-0123456789abcdef2"
	testSnapR = "snap-0123456789abcdef3"
	testRoot  = "vol-0123456789abcdef3"
)

func snapshotOf(r *nodeapi.Report, id string) nodeapi.SnapshotStatus {
	i := slices.IndexFunc(r.Snapshots, func(s nodeapi.SnapshotStatus) bool { return s.SnapshotID == id })
	if i < 0 {
		return nodeapi.SnapshotStatus{}
	}
	return r.Snapshots[i]
}

func snapshotDone(id string) func(*nodeapi.Report) bool {
	return func(r *nodeapi.Report) bool {
		return snapshotOf(r, id).State != "" && snapshotOf(r, id).State != nodeapi.SnapshotPending
	}
}

func TestVolumeSnapshotsTwoNodes(t *testing.T) {
	img := demoImage(t)
	a := newVolNode(t, img, " kumo.disk_fill")
	b := newVolNode(t, img, "")
	b.cfg.Objects = a.cfg.Objects // one object store, as the server's
	objs := a.cfg.Objects
	runAgent(t, a.cfg)
	runAgent(t, b.cfg)

	spec := demoSpec()
	spec.RootVolumeID, spec.RootSnapshotID = testRoot, "snap-demo" // a qcow2 overlay on the cached demo image
	vd := nodeapi.VolumeData{VolumeID: testVol, SizeBytes: 1 << 30, Backend: nodeapi.VolumeBackendLocal}
	spec.Volumes = []nodeapi.VolumeAttachment{{VolumeData: vd, Device: "/dev/sdf"}}
	a.push(nodeapi.Desired{Instances: []nodeapi.InstanceSpec{spec}})
	a.srv.waitFor(t, testID, nodeapi.ObservedRunning, 60*time.Second)
	a.waitReport(t, "attached", attachedWith(nodeapi.AttachAttached, 1<<30))
	written := consoleMarker(t, a.srv, demotest.DiskData, func(m demotest.Marker) bool { return m.Fields["written"] == "1" })

	// While attached: read through the guest's QEMU.
	at := time.Now()
	a.push(nodeapi.Desired{Instances: []nodeapi.InstanceSpec{spec},
		Snapshots: []nodeapi.SnapshotTask{{SnapshotID: testSnap1, VolumeID: testVol}, {SnapshotID: testSnapR, VolumeID: testRoot}}})
	r := a.waitReport(t, "snapshots while attached", func(r *nodeapi.Report) bool {
		return snapshotDone(testSnap1)(r) && snapshotDone(testSnapR)(r)
	})
	if st := snapshotOf(r, testSnap1); st.State != nodeapi.SnapshotCompleted || st.Progress != 100 || st.SizeBytes != 1<<30 {
		t.Fatalf("snapshot while attached: %+v", st)
	}
	if st := snapshotOf(r, testSnapR); st.State != nodeapi.SnapshotCompleted || st.SizeBytes != spec.RootSizeGiB<<30 {
		t.Fatalf("snapshot of the running guest's root disk: %+v", st)
	}
	t.Logf("snapshot of the attached 1 GiB volume: %v", time.Since(at).Round(time.Millisecond))
	if attachmentOf(r).State != nodeapi.AttachAttached {
		t.Fatalf("the volume after the snapshot: %+v", attachmentOf(r))
	}

	// Detached, homed on A: read as a file, incremental on the first.
	detached := slices.Clone(spec.Volumes)
	detached[0].Detach = true
	spec.Volumes = detached
	a.push(nodeapi.Desired{Instances: []nodeapi.InstanceSpec{spec}})
	a.waitReport(t, "detached", attachedWith(nodeapi.AttachDetached, 0))
	spec.Volumes = nil
	a.push(nodeapi.Desired{Instances: []nodeapi.InstanceSpec{spec}, Volumes: []nodeapi.VolumeSpec{{VolumeData: vd}},
		Snapshots: []nodeapi.SnapshotTask{{SnapshotID: testSnap2, VolumeID: testVol, Parent: testSnap1}}})
	r = a.waitReport(t, "snapshot while detached", snapshotDone(testSnap2))
	if st := snapshotOf(r, testSnap2); st.State != nodeapi.SnapshotCompleted || st.SizeBytes != 1<<30 || st.Uploaded != 0 {
		t.Fatalf("snapshot while detached (nothing new to upload): %+v", st)
	}
	store := &snapshot.Store{Objects: objs}
	m1, err := store.Manifest(t.Context(), testSnap1)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := store.Manifest(t.Context(), testSnap2)
	if err != nil {
		t.Fatal(err)
	}
	mr, err := store.Manifest(t.Context(), testSnapR)
	if err != nil {
		t.Fatal(err)
	}
	md, err := store.Manifest(t.Context(), "snap-demo")
	if err != nil {
		t.Fatal(err)
	}
	same, data := 0, 0
	for i, h := range md.Chunks {
		if !h.IsZero() {
			data++
			if i < len(mr.Chunks) && mr.Chunks[i] == h {
				same++
			}
		}
	}
	if data == 0 || same < data/2 {
		t.Fatalf("the root snapshot has %d of the demo image's %d data chunks: not the disk the guest booted from", same, data)
	}
	if !slices.Equal(m1.Chunks, m2.Chunks) {
		t.Fatal("the detached snapshot differs from the attached one; nothing was written in between")
	}
	// The task is dropped once the server recorded it: so is its status.
	a.push(nodeapi.Desired{Instances: []nodeapi.InstanceSpec{spec}, Volumes: []nodeapi.VolumeSpec{{VolumeData: vd}}})
	a.waitReport(t, "finished tasks forgotten", func(r *nodeapi.Report) bool { return len(r.Snapshots) == 0 })

	// B: a new volume from the snapshot, attached at boot.
	specB := demoSpec()
	specB.RootSnapshotID = testSnapR
	vdB := nodeapi.VolumeData{VolumeID: testVol, SizeBytes: 2 << 30, Backend: nodeapi.VolumeBackendLocal, SnapshotID: testSnap2}
	specB.Volumes = []nodeapi.VolumeAttachment{{VolumeData: vdB, Device: "/dev/sdf"}}
	at = time.Now()
	b.push(nodeapi.Desired{Instances: []nodeapi.InstanceSpec{specB}})
	b.waitReport(t, "attached on B", attachedWith(nodeapi.AttachAttached, 2<<30))
	waitBoots(t, b.srv, 1, demotest.Ready) // from A's root snapshot
	t.Logf("volume from the snapshot on B: %v", time.Since(at).Round(time.Millisecond))
	read := consoleMarker(t, b.srv, demotest.DiskData, func(demotest.Marker) bool { return true })
	if read.Fields["sha256"] != written.Fields["sha256"] || read.Fields["written"] != "" {
		t.Fatalf("B's guest read %q; A's guest wrote %q", read.Text, written.Text)
	}
}
