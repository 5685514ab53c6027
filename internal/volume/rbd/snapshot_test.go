package rbd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/kumo-cloud/kumo/internal/qmp"
	"github.com/kumo-cloud/kumo/internal/volume/rbd"
)

// TestSnapshotsOfAVolumeInUse: snapshots taken while QEMU has the image
// open and writes to it hold the data of their instant; the changes
// between two snapshots are the ranges written between them, with their
// bytes; the guest keeps running throughout.
func TestSnapshotsOfAVolumeInUse(t *testing.T) {
	b, id := backend(t)
	c := startQEMU(t)
	ctx := ctxT(t)
	const size = 16 << 20
	if err := b.Create(ctx, id, size); err != nil {
		t.Fatal(err)
	}
	_, dev := attach(t, c, b, id)
	qemuIO(t, c, dev, "write -P 0x11 0 65536")
	if err := b.Snapshot(ctx, id, "s1"); err != nil {
		t.Fatalf("snapshot of a volume in use: %v", err)
	}
	if err := b.Snapshot(ctx, id, "s1"); err != nil {
		t.Fatalf("snapshot again: %v, want nil", err)
	}
	qemuIO(t, c, dev, "write -P 0x33 0 4096")
	qemuIO(t, c, dev, "write -P 0x22 8388608 65536")
	if err := b.Snapshot(ctx, id, "s2"); err != nil {
		t.Fatal(err)
	}
	qemuIO(t, c, dev, "write -P 0x44 12582912 4096") // after s2: in neither
	if st, err := c.QueryStatus(ctx); err != nil || st.Status != qmp.StatusRunning {
		t.Fatalf("QEMU after the snapshots: %+v, %v; want running", st, err)
	}
	if names, err := b.Snapshots(ctx, id); err != nil || !slices.Equal(names, []string{"s1", "s2"}) {
		t.Fatalf("Snapshots = %v, %v; want [s1 s2]", names, err)
	}

	s1 := readSnapshot(t, b, id, "s1")
	if len(s1) != size || !bytes.Equal(s1[:65536], fill(0x11, 65536)) || !isZero(s1[65536:]) {
		t.Fatal("snapshot s1 does not hold the volume as it was when taken")
	}

	exts, err := b.ChangedExtents(ctx, id, "s1", "s2")
	if err != nil {
		t.Fatal(err)
	}
	if !covers(exts, 0, 4096) || !covers(exts, 8<<20, 65536) || covers(exts, 12<<20, 4096) || covers(exts, 4<<20, 4096) {
		t.Fatalf("changes from s1 to s2 = %+v; want [0,4096) and [8 MiB, +64 KiB) only", exts)
	}
	if all, err := b.ChangedExtents(ctx, id, "", "s1"); err != nil || !covers(all, 0, 65536) || covers(all, 8<<20, 1) {
		t.Fatalf("data of s1 = %+v, %v; want [0, 64 KiB)", all, err)
	}

	got := readDiff(t, b, id, "s1", "s2")
	if !bytes.Equal(got[0], fill(0x33, 4096)) || !bytes.Equal(got[8<<20], fill(0x22, 65536)) || len(got) != 2 {
		t.Fatalf("export-diff s1..s2 gives writes at %v; want 4 KiB of 0x33 at 0 and 64 KiB of 0x22 at 8 MiB", keys(got))
	}

	if err := b.DeleteSnapshot(ctx, id, "s1"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteSnapshot(ctx, id, "s1"); err != nil {
		t.Fatalf("DeleteSnapshot again: %v, want nil", err)
	}
	if _, err := b.OpenSnapshot(ctx, id, "bad@name"); err == nil {
		t.Fatal("OpenSnapshot accepted a bad snapshot name")
	}
	r, err := b.OpenSnapshot(ctx, id, "s1")
	if err == nil {
		_, err = io.ReadAll(r)
	}
	if err == nil {
		t.Fatal("reading a deleted snapshot succeeded")
	}
}

func readSnapshot(t *testing.T, b *rbd.Backend, id, name string) []byte {
	t.Helper()
	r, err := b.OpenSnapshot(context.Background(), id, name)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading snapshot %s: %v", name, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return data
}

// readDiff is the diff's writes by offset (zeroed ranges fail the test:
// none were made).
func readDiff(t *testing.T, b *rbd.Backend, id, from, to string) map[int64][]byte {
	t.Helper()
	rc, err := b.ExportDiff(context.Background(), id, from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	d, err := rbd.NewDiffReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	writes := map[int64][]byte{}
	for {
		ch, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ch.Zero {
			t.Fatalf("diff zeroes %+v: nothing was discarded", ch.Extent)
		}
		data, err := io.ReadAll(ch.Data)
		if err != nil || int64(len(data)) != ch.Length {
			t.Fatalf("data of %+v: %d bytes, %v", ch.Extent, len(data), err)
		}
		writes[ch.Offset] = data
	}
	if d.From != from || d.To != to || d.Size != 16<<20 {
		t.Fatalf("diff header from %q to %q size %d", d.From, d.To, d.Size)
	}
	return writes
}

func covers(exts []rbd.Extent, off, n int64) bool {
	for _, e := range exts {
		if !e.Zero && e.Offset <= off && off+n <= e.Offset+e.Length {
			return true
		}
	}
	return false
}

func fill(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

func isZero(p []byte) bool {
	for _, b := range p {
		if b != 0 {
			return false
		}
	}
	return true
}

func keys(m map[int64][]byte) []string {
	var ks []string
	for k, v := range m {
		ks = append(ks, fmt.Sprintf("%d(+%d)", k, len(v)))
	}
	return ks
}

// TestImportDiffWritesChunks: data from elsewhere (a snapshot's chunks)
// goes into a new volume at its offsets, and a diff read from one volume
// applies to another, byte for byte.
func TestImportDiffWritesChunks(t *testing.T) {
	b, id := backend(t)
	ctx := ctxT(t)
	const size = 8 << 20
	if err := b.Create(ctx, id, size); err != nil {
		t.Fatal(err)
	}
	w, err := b.ImportDiff(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	dw := rbd.NewDiffWriter(w, size)
	if err := dw.Write(512<<10, fill(0x9c, 512<<10)); err != nil {
		t.Fatal(err)
	}
	if err := dw.Write(7<<20, fill(0x3d, 4096)); err != nil {
		t.Fatal(err)
	}
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("rbd import-diff: %v", err)
	}
	if err := b.Snapshot(ctx, id, "s"); err != nil {
		t.Fatal(err)
	}
	data := readSnapshot(t, b, id, "s")
	want := make([]byte, size)
	copy(want[512<<10:], fill(0x9c, 512<<10))
	copy(want[7<<20:], fill(0x3d, 4096))
	if !bytes.Equal(data, want) {
		t.Fatal("the volume does not hold the chunks written at their offsets")
	}

	// The same data, as a diff of the first volume, into a second one.
	b2, id2 := backend(t)
	if err := b2.Create(ctx, id2, size); err != nil {
		t.Fatal(err)
	}
	r, err := b.ExportDiff(ctx, id, "", "s")
	if err != nil {
		t.Fatal(err)
	}
	w2, err := b2.ImportDiff(ctx, id2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w2, r); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if err := w2.Close(); err != nil {
		t.Fatalf("rbd import-diff of an export-diff: %v", err)
	}
	if err := b2.Snapshot(ctx, id2, "s"); err != nil { // import-diff made "s" already (the diff's end snapshot)
		t.Fatal(err)
	}
	if !bytes.Equal(readSnapshot(t, b2, id2, "s"), want) {
		t.Fatal("the copy differs from the volume it was exported from")
	}
}
