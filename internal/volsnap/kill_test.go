package volsnap

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/qmp"
	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// A snapshot whose context is cancelled mid-read fails, leaves nothing in
// QEMU, keeps the parent's bitmap with the writes made meanwhile, and a
// retry is incremental and exact.
func TestCancelledSnapshotCleansUp(t *testing.T) {
	needTools(t)
	dir := tempDir(t)
	vol := newVolume(t, dir, testSize)
	g := startGuest(t, dir, vol, testSize)
	ctx := context.Background()
	g.write(0, 16*chunk, 0x10)
	objs := snapshot.NewMemObjects()
	src := &QEMU{QMP: g.qmp, Node: volNode, TempDir: dir}
	first, err := Take(ctx, src, objs, Options{SnapshotID: "snap-1"})
	if err != nil {
		t.Fatal(err)
	}
	g.write(2*chunk, chunk, 0x20)
	cctx, cancel := context.WithCancel(ctx)
	_, err = Take(cctx, src, objs, Options{SnapshotID: "snap-2", Parent: first.Manifest, NoBitmap: true,
		Progress: func(Progress) {
			cancel()
			g.write(9*chunk, chunk, 0x30) // after the failed attempt's instant
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled snapshot: %v, want context.Canceled", err)
	}
	if l := g.leftovers(); len(l) > 0 {
		t.Errorf("left in QEMU after a cancelled snapshot: %v", l)
	}
	if bms := g.bitmaps(); !slices.Equal(bms, []string{"kumo-snap-1"}) {
		t.Errorf("bitmaps after a cancelled snapshot: %v, want kumo-snap-1", bms)
	}
	if _, err := (&snapshot.Store{Objects: objs}).Manifest(ctx, "snap-2"); !errors.Is(err, snapshot.ErrNotFound) {
		t.Errorf("manifest of the cancelled snapshot: %v, want none", err)
	}
	want := slices.Clone(g.model)
	retry, err := Take(ctx, src, objs, Options{SnapshotID: "snap-2", Parent: first.Manifest})
	if err != nil {
		t.Fatal(err)
	}
	if !retry.Incremental || retry.Read != 2*chunk {
		t.Errorf("retry: incremental %v, read %d; want true, %d (chunks 2 and 9)", retry.Incremental, retry.Read, 2*chunk)
	}
	sameBytes(t, "snapshot retried", snapshotBytes(t, objs, retry.Manifest), want)
	final := slices.Clone(g.model)
	g.stop()
	sameBytes(t, "volume", rawImage(t, vol), final)
}

// The helper process of TestKilledSnapshotRetried: it starts a snapshot
// through QEMU's second monitor and hangs in the middle of the read.
func TestKilledSnapshotHelper(t *testing.T) {
	spec := os.Getenv("VOLSNAP_KILL_HELPER")
	if spec == "" {
		t.Skip("helper process only")
	}
	var sock, store, dir string
	fmt.Sscanf(spec, "%s %s %s", &sock, &store, &dir)
	ctx := context.Background()
	c, err := qmp.Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := snapshot.NewDirObjects(store)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := (&snapshot.Store{Objects: objs}).Manifest(ctx, "snap-1")
	if err != nil {
		t.Fatal(err)
	}
	Take(ctx, &QEMU{QMP: c, Node: volNode, TempDir: dir}, objs, Options{SnapshotID: "snap-2", Parent: parent, NoBitmap: true,
		Progress: func(Progress) {
			fmt.Println("reading")
			time.Sleep(time.Hour)
		}})
}

// A snapshot whose process is killed with SIGKILL mid-read leaves its
// overlay, job and export in QEMU; the next attempt removes them by name,
// and stores the exact point-in-time view with the writes made since the
// parent, the killed attempt's window included, in the bitmap it reads.
func TestKilledSnapshotRetried(t *testing.T) {
	needTools(t)
	dir := tempDir(t)
	vol := newVolume(t, dir, testSize)
	g := startGuest(t, dir, vol, testSize)
	ctx := context.Background()
	g.write(0, 16*chunk, 0x10)
	objs, err := snapshot.NewDirObjects(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src := &QEMU{QMP: g.qmp, Node: volNode, TempDir: dir}
	first, err := Take(ctx, src, objs, Options{SnapshotID: "snap-1"})
	if err != nil {
		t.Fatal(err)
	}
	g.write(2*chunk, chunk, 0x20)

	cmd := exec.Command(os.Args[0], "-test.run", "^TestKilledSnapshotHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "VOLSNAP_KILL_HELPER="+g.qmp2+" "+objs.Root+" "+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	for lines.Scan() && !strings.Contains(lines.Text(), "reading") {
	}
	g.write(9*chunk, chunk, 0x30) // while the killed attempt's view is open
	cmd.Process.Kill()
	cmd.Wait()
	if l := g.leftovers(); len(l) == 0 {
		t.Fatal("the killed snapshot left nothing in QEMU: the test did not kill it mid-read")
	} else {
		t.Logf("left by the killed snapshot: %v, bitmaps %v", l, g.bitmaps())
	}
	g.write(12*chunk, chunk, 0x40)
	want := slices.Clone(g.model)
	retry, err := Take(ctx, src, objs, Options{SnapshotID: "snap-2", Parent: first.Manifest})
	if err != nil {
		t.Fatal(err)
	}
	if l := g.leftovers(); len(l) > 0 {
		t.Errorf("left in QEMU after the retry: %v", l)
	}
	if !retry.Incremental || retry.Read != 3*chunk {
		t.Errorf("retry: incremental %v, read %d; want true, %d (chunks 2, 9, 12)", retry.Incremental, retry.Read, 3*chunk)
	}
	sameBytes(t, "snapshot retried after a kill", snapshotBytes(t, objs, retry.Manifest), want)
	if bms := g.bitmaps(); !slices.Equal(bms, []string{"kumo-snap-2"}) {
		t.Errorf("bitmaps %v, want kumo-snap-2", bms)
	}
	final := slices.Clone(g.model)
	g.stop()
	sameBytes(t, "volume", rawImage(t, vol), final)
}
