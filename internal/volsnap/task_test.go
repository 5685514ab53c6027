package volsnap

import (
	"context"
	"testing"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// RunTask reports a node's snapshot task as the server expects: pending
// with rising progress, then completed with the size and bytes uploaded;
// the parent named by id is loaded and used.
func TestRunTaskReports(t *testing.T) {
	needTools(t)
	dir := tempDir(t)
	vol := newVolume(t, dir, testSize)
	model := make([]byte, testSize)
	qemuIO(t, vol, model, 0, 4*chunk, 0x42)
	qemuIO(t, vol, model, 0, 1, 0x43)
	objs := snapshot.NewMemObjects()
	src := &File{Path: vol, TempDir: dir}
	ctx := context.Background()
	var got []nodeapi.SnapshotStatus
	report := func(s nodeapi.SnapshotStatus) { got = append(got, s) }
	if _, err := RunTask(ctx, src, objs, nodeapi.SnapshotTask{SnapshotID: "snap-t1", VolumeID: "vol-1"}, report); err != nil {
		t.Fatal(err)
	}
	last := got[len(got)-1]
	if last.State != nodeapi.SnapshotCompleted || last.Progress != 100 || last.SizeBytes != testSize || last.Uploaded != 2*chunk {
		t.Fatalf("final status %+v, want completed, 100 %%, %d bytes, %d uploaded", last, testSize, 2*chunk)
	}
	prev := -1
	for _, s := range got[:len(got)-1] {
		if s.State != nodeapi.SnapshotPending || s.Progress < prev || s.Progress > 99 {
			t.Fatalf("statuses %+v: want pending with rising progress below 100", got)
		}
		prev = s.Progress
	}

	qemuIO(t, vol, model, 9*chunk, 100, 0x44)
	got = nil
	res, err := RunTask(ctx, src, objs, nodeapi.SnapshotTask{SnapshotID: "snap-t2", VolumeID: "vol-1", Parent: "snap-t1"}, report)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Incremental || res.Read != chunk || got[len(got)-1].Uploaded != chunk {
		t.Errorf("second task: incremental %v, read %d, status %+v; want the one changed chunk", res.Incremental, res.Read, got[len(got)-1])
	}
	sameBytes(t, "second task's snapshot", snapshotBytes(t, objs, res.Manifest), model)

	got = nil
	if _, err := RunTask(ctx, &File{Path: dir + "/missing.qcow2", TempDir: dir}, objs,
		nodeapi.SnapshotTask{SnapshotID: "snap-t3"}, report); err == nil || got[len(got)-1].State != nodeapi.SnapshotError || got[len(got)-1].Reason == "" {
		t.Errorf("task on a missing volume: %v, statuses %+v; want an error reported", err, got)
	}
}
