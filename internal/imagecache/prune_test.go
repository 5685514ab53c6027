package imagecache

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Prune removes bases neither wanted nor backing an overlay, and the
// leftovers of crashed fetches.
func TestPrune(t *testing.T) {
	c, _, disks := newCache(t)
	for i, id := range []string{"snap-keep", "snap-backing", "snap-old"} {
		data := pattern(256<<10, byte(i))
		putSnapshot(t, c, id, bytes.NewReader(data), int64(len(data)))
		if _, err := c.Base(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.RootDisk(t.Context(), "snap-backing", filepath.Join(disks, "i-1", "root.qcow2"), 0); err == nil {
		t.Fatal("RootDisk into a missing directory succeeded")
	}
	if err := os.MkdirAll(filepath.Join(disks, "i-1"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.RootDisk(t.Context(), "snap-backing", filepath.Join(disks, "i-1", "root.qcow2"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(disks, "notes.txt"), []byte("not a disk"), 0o600); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(c.Dir, tempPrefix+"snap-gone-999")
	if err := os.WriteFile(leftover, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	removed, err := c.Prune(t.Context(), func(id string) bool { return id == "snap-keep" })
	if err != nil || !slices.Equal(removed, []string{"snap-old"}) {
		t.Fatalf("Prune: %v, %v; want [snap-old]", removed, err)
	}
	want := []string{"snap-backing.raw", "snap-keep.raw"}
	if got := cacheFiles(t, c); !slices.Equal(got, want) {
		t.Errorf("cache holds %v, want %v", got, want)
	}
	if err := os.RemoveAll(filepath.Join(disks, "i-1")); err != nil {
		t.Fatal(err)
	}
	removed, err = c.Prune(t.Context(), func(string) bool { return false })
	if err != nil || !slices.Equal(removed, []string{"snap-backing", "snap-keep"}) {
		t.Fatalf("second Prune: %v, %v", removed, err)
	}
}

// A base pruned after Base returned is fetched again by RootDisk.
func TestRootDiskAfterPrune(t *testing.T) {
	c, objs, disks := newCache(t)
	data := pattern(256<<10, 4)
	putSnapshot(t, c, "snap-1", bytes.NewReader(data), int64(len(data)))
	if _, err := c.Base(t.Context(), "snap-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Prune(t.Context(), func(string) bool { return false }); err != nil {
		t.Fatal(err)
	}
	reads := objs.chunkGets.Load()
	path := filepath.Join(disks, "root.qcow2")
	if err := c.RootDisk(t.Context(), "snap-1", path, 0); err != nil {
		t.Fatal(err)
	}
	if objs.chunkGets.Load() == reads {
		t.Error("the pruned base was not fetched again")
	}
	if got := flatten(t, path); !bytes.Equal(got, data) {
		t.Error("overlay does not read back the base")
	}
}

// Prune running alongside RootDisk never leaves an overlay without its base.
func TestPruneConcurrentRootDisk(t *testing.T) {
	c, _, disks := newCache(t)
	data := pattern(128<<10, 2)
	putSnapshot(t, c, "snap-1", bytes.NewReader(data), int64(len(data)))
	stop := make(chan struct{})
	pruned := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				pruned <- nil
				return
			default:
			}
			if _, err := c.Prune(t.Context(), func(string) bool { return false }); err != nil {
				pruned <- err
				return
			}
		}
	}()
	for i := range 20 {
		path := filepath.Join(disks, fmt.Sprintf("root-%d.qcow2", i))
		if err := c.RootDisk(t.Context(), "snap-1", path, 0); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if err := <-pruned; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "snap-1.raw")); err != nil {
		t.Fatalf("base of 20 overlays gone: %v", err)
	}
}
