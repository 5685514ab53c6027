package imagecache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kumo-cloud/kumo/internal/qemuimg"
)

const (
	gib        = 1 << 30
	maxSizeGiB = qemuimg.DefaultMaxVirtualSize / gib
)

// RootDisk creates path as a qcow2 overlay whose backing file is the cached
// base of snapshotID (backing format raw), of virtual size max(base size,
// sizeGiB GiB): the overlay holds only metadata, so this takes constant
// time whatever the image's size. If path exists already as an overlay on
// the same base, RootDisk grows it to the size if smaller and succeeds; an
// overlay on anything else is an error. The overlay is made under a temp
// name, synced and renamed, so path is complete once it exists. Calls for
// one path must not overlap (the node agent handles an instance at a time).
func (c *Cache) RootDisk(ctx context.Context, snapshotID, path string, sizeGiB int64) error {
	if sizeGiB < 0 || sizeGiB > maxSizeGiB {
		return fmt.Errorf("root disk %s: size %d GiB: out of range", path, sizeGiB)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("root disk %s: %w", path, err)
	}
	defer c.pin(snapshotID)()
	base, err := c.Base(ctx, snapshotID)
	if err != nil {
		return fmt.Errorf("root disk %s: %w", path, err)
	}
	fi, err := os.Stat(base)
	if err != nil {
		return fmt.Errorf("root disk %s: base: %w", path, err)
	}
	return c.overlay(ctx, base, abs, max(sizeGiB*gib, fi.Size()))
}

// overlay makes (or checks) the overlay at path on base, of size bytes,
// holding off Prune.
func (c *Cache) overlay(ctx context.Context, base, path string, size int64) error {
	c.disks.RLock()
	defer c.disks.RUnlock()
	if ok, err := regularFile(path); ok || err != nil {
		return c.reuse(ctx, base, path, size, err)
	}
	return c.create(ctx, base, path, size)
}

// create makes the overlay under a temp name and renames it into place.
func (c *Cache) create(ctx context.Context, base, path string, size int64) error {
	tmp := filepath.Join(filepath.Dir(path), tempPrefix+filepath.Base(path))
	_ = os.Remove(tmp) // a leftover from a crash
	if err := c.Images.Create(ctx, tmp, qemuimg.FormatQCOW2, size, base, qemuimg.FormatRaw); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("root disk %s: %w", path, err)
	}
	if err := syncFile(tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("root disk %s: %w", path, err)
	}
	if err := publish(tmp, path); err != nil {
		return fmt.Errorf("root disk %s: %w", path, err)
	}
	c.log().Info("root disk created", "path", path, "base", base, "bytes", size)
	return nil
}

// reuse accepts an existing overlay on base, growing it if needed.
func (c *Cache) reuse(ctx context.Context, base, path string, size int64, statErr error) error {
	if statErr != nil {
		return fmt.Errorf("root disk %s: %w", path, statErr)
	}
	info, err := readOverlay(path)
	if err != nil {
		return fmt.Errorf("root disk %s exists: %w", path, err)
	}
	if info.Backing != base {
		return fmt.Errorf("root disk %s exists with backing file %q, not %q", path, info.Backing, base)
	}
	if info.Size >= size {
		return nil
	}
	if err := c.Images.Resize(ctx, path, qemuimg.FormatQCOW2, size); err != nil {
		return fmt.Errorf("root disk %s: grow: %w", path, err)
	}
	return nil
}
