package imagecache

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// The overlay has the base's size and bytes; a larger size grows it with
// zeros after the base's end.
func TestRootDisk(t *testing.T) {
	c, _, disks := newCache(t)
	data := pattern(2<<20, 1)
	putSnapshot(t, c, "snap-1", bytes.NewReader(data), int64(len(data)))
	same := filepath.Join(disks, "i-1", "root.qcow2")
	if err := os.MkdirAll(filepath.Dir(same), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.RootDisk(t.Context(), "snap-1", same, 0); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(c.Dir, "snap-1.raw")
	if info := qemuInfo(t, same); info.VirtualSize != int64(len(data)) || info.Backing != base || info.BackingFmt != "raw" {
		t.Errorf("overlay: %+v", info)
	}
	if got := flatten(t, same); !bytes.Equal(got, data) {
		t.Error("overlay does not read back the base's bytes")
	}
	grown := filepath.Join(disks, "grown.qcow2")
	if err := c.RootDisk(t.Context(), "snap-1", grown, 1); err != nil {
		t.Fatal(err)
	}
	if info := qemuInfo(t, grown); info.VirtualSize != 1<<30 {
		t.Errorf("grown overlay: %d bytes, want 1 GiB", info.VirtualSize)
	}
	if !headThenZeros(t, flatFile(t, grown), data, 1<<30) {
		t.Error("grown overlay: want the base's bytes, then zeros")
	}
}

// A 2 GiB image's root disk costs what a 2 MiB one's does: the overlay is
// metadata only, and once the base is cached nothing is read again.
func TestRootDiskConstant(t *testing.T) {
	c, objs, disks := newCache(t)
	c.Snapshots.ChunkSize = 4 << 20 // fewer chunks of zeros to hash
	small := pattern(2<<20, 2)
	putSnapshot(t, c, "snap-small", bytes.NewReader(small), int64(len(small)))
	big := io.MultiReader(bytes.NewReader(small), io.LimitReader(zeros{}, 2<<30-int64(len(small))))
	putSnapshot(t, c, "snap-big", big, 2<<30)
	var sizes []int64
	for _, id := range []string{"snap-small", "snap-big"} {
		if _, err := c.Base(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		reads := objs.chunkGets.Load()
		path := filepath.Join(disks, id+".qcow2")
		if err := c.RootDisk(t.Context(), id, path, 0); err != nil {
			t.Fatal(err)
		}
		if objs.chunkGets.Load() != reads {
			t.Errorf("%s: RootDisk read the object store", id)
		}
		sizes = append(sizes, fileSize(t, path))
	}
	if sizes[1] > 1<<20 || sizes[1]-sizes[0] > 64<<10 {
		t.Errorf("overlay file sizes %v: want small and alike", sizes)
	}
	if info := qemuInfo(t, filepath.Join(disks, "snap-big.qcow2")); info.VirtualSize != 2<<30 {
		t.Errorf("big overlay: %d bytes", info.VirtualSize)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// fileSize is a file's length.
func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// RootDisk again on the same path and base succeeds (growing if asked);
// on another base it fails and leaves the disk alone.
func TestRootDiskIdempotent(t *testing.T) {
	c, _, disks := newCache(t)
	for _, id := range []string{"snap-a", "snap-b"} {
		data := pattern(1<<20, byte(len(id)))
		putSnapshot(t, c, id, bytes.NewReader(data), int64(len(data)))
	}
	path := filepath.Join(disks, "root.qcow2")
	for _, size := range []int64{0, 0, 1} {
		if err := c.RootDisk(t.Context(), "snap-a", path, size); err != nil {
			t.Fatal(err)
		}
	}
	if info := qemuInfo(t, path); info.VirtualSize != 1<<30 {
		t.Errorf("re-run with 1 GiB: %d bytes", info.VirtualSize)
	}
	if err := c.RootDisk(t.Context(), "snap-b", path, 0); err == nil {
		t.Error("RootDisk on another base's overlay succeeded")
	}
	if err := c.RootDisk(context.Background(), "snap-a", path, -1); err == nil {
		t.Error("negative size accepted")
	}
}
