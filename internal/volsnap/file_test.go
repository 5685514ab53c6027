package volsnap

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"testing"

	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// qemuIO writes pattern b at off in a detached qcow2 file with the
// qemu-io tool (QEMU's block layer: the file's bitmaps record it).
func qemuIO(t *testing.T, path string, model []byte, off, n int64, b byte) {
	t.Helper()
	out, err := exec.Command("qemu-io", "-f", "qcow2", "-c", fmt.Sprintf("write -P 0x%02x %d %d", b, off, n), path).CombinedOutput()
	if err != nil {
		t.Fatalf("qemu-io: %v: %s", err, out)
	}
	for i := off; i < off+n; i++ {
		model[i] = b
	}
}

// Snapshots of a detached file; the bitmap a running QEMU started is kept
// in the file when QEMU closes it, so the next snapshot of the file, and
// the one after, read only what changed.
func TestDetachedSnapshotsAfterAttached(t *testing.T) {
	needTools(t)
	dir := tempDir(t)
	vol := newVolume(t, dir, testSize)
	g := startGuest(t, dir, vol, testSize)
	ctx := context.Background()
	g.write(0, 8*chunk, 0x5a)
	g.write(30*chunk, chunk, 0x5b)
	objs := snapshot.NewMemObjects()
	first, err := Take(ctx, &QEMU{QMP: g.qmp, Node: volNode, TempDir: dir}, objs, Options{SnapshotID: "snap-a"})
	if err != nil {
		t.Fatal(err)
	}
	g.write(5*chunk, 100, 0x01)
	model := slices.Clone(g.model)
	g.stop() // detach: QEMU stores the bitmap in the file

	src := &File{Path: vol, TempDir: dir}
	second, err := Take(ctx, src, objs, Options{SnapshotID: "snap-b", Parent: first.Manifest})
	if err != nil {
		t.Fatal(err)
	}
	if !second.Incremental || second.Read != chunk || second.Uploaded != chunk {
		t.Errorf("detached snapshot after attached: incremental %v, read %d, uploaded %d; want true, %d, %d",
			second.Incremental, second.Read, second.Uploaded, chunk, chunk)
	}
	sameBytes(t, "detached snapshot", snapshotBytes(t, objs, second.Manifest), model)

	qemuIO(t, vol, model, 60*chunk, 3*chunk, 0x77)
	third, err := Take(ctx, src, objs, Options{SnapshotID: "snap-c", Parent: second.Manifest})
	if err != nil {
		t.Fatal(err)
	}
	if !third.Incremental || third.Read != 3*chunk || third.Uploaded != chunk {
		t.Errorf("second detached snapshot: incremental %v, read %d, uploaded %d; want true, %d, %d (3 alike chunks)",
			third.Incremental, third.Read, third.Uploaded, 3*chunk, chunk)
	}
	sameBytes(t, "second detached snapshot", snapshotBytes(t, objs, third.Manifest), model)
	sameBytes(t, "volume", rawImage(t, vol), model)
	bms, err := src.listBitmaps(ctx)
	if err != nil || len(bms) != 1 || bms[0].Name != "kumo-snap-c" {
		t.Errorf("bitmaps in the file: %+v, %v; want kumo-snap-c only", bms, err)
	}

	// A snapshot without a parent reads the whole file (data only).
	full, err := Take(ctx, src, objs, Options{SnapshotID: "snap-d"})
	if err != nil {
		t.Fatal(err)
	}
	if full.Incremental || full.Read != 12*chunk || full.Uploaded != 0 {
		t.Errorf("full snapshot: incremental %v, read %d, uploaded %d; want false, %d, 0", full.Incremental, full.Read, full.Uploaded, 12*chunk)
	}
	sameBytes(t, "full snapshot", snapshotBytes(t, objs, full.Manifest), model)

	// Taking a stored snapshot again returns it without reading.
	again, err := Take(ctx, src, objs, Options{SnapshotID: "snap-d"})
	if err != nil || again.Read != 0 || !slices.Equal(again.Manifest.Chunks, full.Manifest.Chunks) {
		t.Errorf("taking snap-d again: %+v, %v; want the stored manifest, nothing read", again, err)
	}
	// A parent deleted from the store: a full snapshot.
	gone := *third.Manifest
	gone.SnapshotID = "snap-gone"
	orphan, err := Take(ctx, src, objs, Options{SnapshotID: "snap-e", Parent: &gone})
	if err != nil || orphan.Incremental || orphan.Read != 12*chunk {
		t.Errorf("snapshot with a deleted parent: %+v, %v; want a full one", orphan, err)
	}
}
