package imagecache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Prune removes the cached bases keep says are no longer wanted, except any
// that a qcow2 file under Overlays still backs or that is being fetched,
// or that a RootDisk call in progress uses, and the temp files of fetches
// no longer running. It returns the ids of the bases removed. Overlays made
// while Prune runs wait for it.
func (c *Cache) Prune(ctx context.Context, keep func(snapshotID string) bool) (removed []string, err error) {
	dir, err := c.dir()
	if err != nil {
		return nil, err
	}
	c.disks.Lock()
	defer c.disks.Unlock()
	backed, err := c.backedBases(ctx)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("image cache prune: %w", err)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return removed, fmt.Errorf("image cache prune: %w", err)
		}
		id, gone, err := c.pruneEntry(dir, e.Name(), keep, backed)
		if err != nil {
			return removed, err
		}
		if gone {
			removed = append(removed, id)
		}
	}
	return removed, nil
}

// pruneEntry removes one file of the cache if it may go; gone reports a
// base removed.
func (c *Cache) pruneEntry(dir, name string, keep func(string) bool, backed map[string]bool) (id string, gone bool, err error) {
	path := filepath.Join(dir, name)
	if tid := tempID(name); tid != "" {
		if !c.inFlight(tid) {
			_ = os.Remove(path) // a crash's leftover; retried next time
		}
		return "", false, nil
	}
	id, ok := strings.CutSuffix(name, baseSuffix)
	if !ok || checkID(id) != nil || keep(id) || backed[path] || c.busy(id) {
		return "", false, nil
	}
	if err := os.Remove(path); err != nil {
		return "", false, fmt.Errorf("image cache prune %s: %w", id, err)
	}
	c.log().Info("image uncached", "snapshot", id)
	return id, true, nil
}

// backedBases is the set of backing file paths of the qcow2 files under
// c.Overlays. A file that cannot be read stops Prune: its base might be
// one of ours.
func (c *Cache) backedBases(ctx context.Context) (map[string]bool, error) {
	backed := map[string]bool{}
	for _, root := range c.Overlays {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return addBacking(backed, path, d, err)
		})
		if err != nil {
			return nil, fmt.Errorf("image cache prune: scan overlays: %w", err)
		}
	}
	return backed, nil
}

// addBacking records the backing file of the file WalkDir found at path.
func addBacking(backed map[string]bool, path string, d fs.DirEntry, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil // removed while we looked, or no such root
	}
	if err != nil {
		return err
	}
	if !d.Type().IsRegular() {
		return nil
	}
	info, err := readOverlay(path)
	if errors.Is(err, errNotQCOW2) || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.Backing != "" {
		backed[filepath.Clean(info.Backing)] = true
	}
	return nil
}
