package imagecache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// fetch rebuilds snapshot id's volume into the cache, atomically, as
// fl's fill, which readers may read from while it is written.
func (c *Cache) fetch(ctx context.Context, id string, fl *flight) error {
	start := time.Now()
	dir, err := c.dir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("image cache: %w", err)
	}
	removeTemps(dir, id)
	m, err := c.Snapshots.Manifest(ctx, id)
	if err != nil {
		return fmt.Errorf("image cache: base %s: %w", id, err)
	}
	tmp, err := os.CreateTemp(dir, tempPrefix+id+"-*")
	if err != nil {
		return fmt.Errorf("image cache: base %s: %w", id, err)
	}
	f, err := newFill(ctx, c.Snapshots, m, tmp, c.log())
	if err != nil {
		tmp.Close()
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("image cache: base %s: %w", id, err)
	}
	c.ready(fl, f)
	defer f.finish()
	if err := c.complete(f, fl); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("image cache: base %s: %w", id, err)
	}
	if err := publish(tmp.Name(), filepath.Join(dir, id+baseSuffix)); err != nil {
		return fmt.Errorf("image cache: base %s: %w", id, err)
	}
	c.log().Info("image cached", "snapshot", id, "bytes", m.VolumeSize, "duration", time.Since(start), "lazy", fl.isLazy())
	return nil
}

// complete fills every chunk into f's file (sparsely: zero chunks stay
// holes), syncs it and makes it read-only.
func (c *Cache) complete(f *fill, fl *flight) error {
	workers := c.Snapshots.Workers()
	if fl.isLazy() {
		// A guest is reading: one background worker leaves the CPU and
		// the store to its demand reads (measured: BenchmarkDebianRunInstances).
		workers = 1
	}
	if err := f.run(workers, fl.isLazy); err != nil {
		return err
	}
	if err := f.f.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if err := f.f.Chmod(0o444); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return nil
}

// publish renames a complete temp file into place, durably.
func publish(tmp, path string) error {
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("rename: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// removeTemps deletes leftovers of earlier fetches of id (a crash, an
// abandoned fetch); errors only leave them for Prune.
func removeTemps(dir, id string) {
	names, _ := filepath.Glob(filepath.Join(dir, tempPrefix+id+"-*"))
	for _, n := range names {
		if tempID(filepath.Base(n)) == id {
			_ = os.Remove(n)
		}
	}
}

// tempID is the snapshot id a temp file name was made for, or "".
func tempID(name string) string {
	rest, ok := strings.CutPrefix(name, tempPrefix)
	if !ok {
		return ""
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 {
		return ""
	}
	return rest[:i]
}
