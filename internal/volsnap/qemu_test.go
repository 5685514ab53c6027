package volsnap

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/kumo-cloud/kumo/internal/snapshot"
)

const (
	testSize = 64 << 20
	chunk    = snapshot.DefaultChunkSize
)

// A snapshot of an attached volume being written holds exactly the bytes
// of the instant it started; the volume keeps every later write; the
// snapshot restores to a volume with identical bytes.
func TestAttachedSnapshotIsPointInTime(t *testing.T) {
	needTools(t)
	dir := tempDir(t)
	vol := newVolume(t, dir, testSize)
	g := startGuest(t, dir, vol, testSize)
	ctx := context.Background()
	g.write(0, 3*chunk, 0x11)
	g.write(10*chunk+4096, 65536, 0x22)
	g.write(testSize-chunk, chunk, 0x33)
	want := slices.Clone(g.model) // the instant of the snapshot

	objs := snapshot.NewMemObjects()
	var once sync.Once
	var during error
	res, err := Take(ctx, &QEMU{QMP: g.qmp, Node: volNode, TempDir: dir}, objs, Options{
		SnapshotID: "snap-0000000000000001",
		Progress: func(p Progress) {
			// Overwrite chunks the read has passed and chunks it has not
			// reached, and fill a hole.
			once.Do(func() {
				for _, w := range []struct {
					off, n int64
					b      byte
				}{{0, chunk, 0xa1}, {10 * chunk, 2 * chunk, 0xa2}, {testSize - 2*chunk, 2 * chunk, 0xa3}, {40 * chunk, 4096, 0xa4}} {
					if err := g.tryWrite(w.off, w.n, w.b); err != nil {
						during = err
					}
				}
			})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if during != nil {
		t.Fatalf("writing during the snapshot: %v", during)
	}
	t.Logf("pause (transaction round trip) %v, read %d, uploaded %d", res.Pause, res.Read, res.Uploaded)
	// Five non-zero chunks, two of them alike: three distinct ones.
	if res.Uploaded != 3*chunk || res.Read != 5*chunk {
		t.Errorf("read %d bytes, uploaded %d; want %d and %d (the non-zero chunks, the distinct ones)",
			res.Read, res.Uploaded, 5*chunk, 3*chunk)
	}
	g.write(20*chunk, chunk, 0x44) // after
	sameBytes(t, "snapshot", snapshotBytes(t, objs, res.Manifest), want)
	if l := g.leftovers(); len(l) > 0 {
		t.Errorf("left in QEMU: %v", l)
	}
	if bms := g.bitmaps(); !slices.Equal(bms, []string{"kumo-snap-0000000000000001"}) {
		t.Errorf("bitmaps %v, want the snapshot's only", bms)
	}
	final := slices.Clone(g.model)
	g.stop()
	sameBytes(t, "volume after the snapshot", rawImage(t, vol), final)

	restored := filepath.Join(dir, "restored.qcow2")
	if err := Restore(ctx, objs, res.Manifest, restored, testSize+chunk, RestoreOptions{TempDir: dir}); err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "restored volume", rawImage(t, restored), append(want, make([]byte, chunk)...))
}

// After a first snapshot, a second one of a volume with 1 % of its chunks
// changed reads and uploads only those chunks (the dirty bitmap started
// at the first); without the bitmap it reads every data chunk and still
// uploads only the changed ones (the store has the others).
func TestAttachedIncremental(t *testing.T) {
	needTools(t)
	dir := tempDir(t)
	vol := newVolume(t, dir, testSize)
	g := startGuest(t, dir, vol, testSize)
	ctx := context.Background()
	for i := int64(0); i < testSize/chunk; i++ {
		g.write(i*chunk, chunk, byte(i)) // every chunk distinct
	}
	g.write(0, 1, 0xff) // and none all zeros
	objs := snapshot.NewMemObjects()
	src := &QEMU{QMP: g.qmp, Node: volNode, TempDir: dir}
	first, err := Take(ctx, src, objs, Options{SnapshotID: "snap-1"})
	if err != nil {
		t.Fatal(err)
	}
	if first.Uploaded != testSize || first.Incremental {
		t.Fatalf("first snapshot uploaded %d bytes (incremental %v), want %d", first.Uploaded, first.Incremental, testSize)
	}
	changed := []int64{3, 77} // 2 of 128 chunks; one only in part
	g.write(3*chunk+100, 4096, 0xee)
	g.write(77*chunk, chunk, 0xdd)
	want := slices.Clone(g.model)

	second, err := Take(ctx, src, objs, Options{SnapshotID: "snap-2", Parent: first.Manifest})
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(changed)) * chunk
	if !second.Incremental || second.Read != n || second.Uploaded != n {
		t.Errorf("second snapshot: incremental %v, read %d, uploaded %d; want true, %d, %d",
			second.Incremental, second.Read, second.Uploaded, n, n)
	}
	sameBytes(t, "incremental snapshot", snapshotBytes(t, objs, second.Manifest), want)
	if bms := g.bitmaps(); !slices.Equal(bms, []string{"kumo-snap-2"}) {
		t.Errorf("bitmaps %v, want kumo-snap-2 only", bms)
	}

	g.write(50*chunk, 8192, 0xcc)
	want = slices.Clone(g.model)
	third, err := Take(ctx, src, objs, Options{SnapshotID: "snap-3", Parent: second.Manifest, NoBitmap: true})
	if err != nil {
		t.Fatal(err)
	}
	if third.Incremental || third.Read != testSize || third.Uploaded != chunk {
		t.Errorf("snapshot by content: incremental %v, read %d, uploaded %d; want false, %d, %d",
			third.Incremental, third.Read, third.Uploaded, testSize, chunk)
	}
	sameBytes(t, "snapshot by content", snapshotBytes(t, objs, third.Manifest), want)
}

// A volume grown online (ModifyVolume: block_resize) since its parent
// snapshot: the next snapshot has the new size, reads the changed chunks
// and the new ones holding data, and restores exactly.
func TestIncrementalAfterOnlineGrow(t *testing.T) {
	needTools(t)
	dir := tempDir(t)
	vol := newVolume(t, dir, testSize)
	g := startGuest(t, dir, vol, testSize)
	ctx := context.Background()
	g.write(0, 4*chunk, 0x61)
	objs := snapshot.NewMemObjects()
	src := &QEMU{QMP: g.qmp, Node: volNode, TempDir: dir}
	first, err := Take(ctx, src, objs, Options{SnapshotID: "snap-g1"})
	if err != nil {
		t.Fatal(err)
	}
	const grown = testSize + 8*chunk + 4096 // not a whole number of chunks
	if err := g.qmp.Execute(ctx, "block_resize", map[string]any{"node-name": volNode, "size": grown}, nil); err != nil {
		t.Fatal(err)
	}
	g.model = append(g.model, make([]byte, grown-testSize)...)
	g.write(1*chunk, 4096, 0x62)
	g.write(testSize+2*chunk, chunk, 0x63)
	g.write(grown-4096, 4096, 0x64)
	want := slices.Clone(g.model)
	second, err := Take(ctx, src, objs, Options{SnapshotID: "snap-g2", Parent: first.Manifest})
	if err != nil {
		t.Fatal(err)
	}
	if second.Manifest.VolumeSize != grown || !second.Incremental || second.Read != 2*chunk+4096 {
		t.Errorf("snapshot after a grow: size %d, incremental %v, read %d; want %d, true, %d",
			second.Manifest.VolumeSize, second.Incremental, second.Read, grown, 2*chunk+4096)
	}
	sameBytes(t, "snapshot after a grow", snapshotBytes(t, objs, second.Manifest), want)
	restored := filepath.Join(dir, "restored.qcow2")
	if err := Restore(ctx, objs, second.Manifest, restored, grown, RestoreOptions{TempDir: dir}); err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "restored", rawImage(t, restored), want)
	if err := Restore(ctx, objs, second.Manifest, restored, testSize, RestoreOptions{TempDir: dir}); err == nil {
		t.Error("restore to a volume smaller than the snapshot succeeded")
	}
}
