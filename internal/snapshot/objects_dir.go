package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// DirObjects keeps objects as files under Root (key "a/b" is Root/a/b).
// Put writes a temp file in the target directory, syncs it and renames it
// into place, so a crash leaves the old object or the new one.
type DirObjects struct {
	Root string
	// NoSync skips fsync: faster, for tests; a crash may then lose objects
	// that Put reported written.
	NoSync bool
}

var _ Objects = (*DirObjects)(nil)

// NewDirObjects creates root if needed.
func NewDirObjects(root string) (*DirObjects, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("object dir %s: %w", root, err)
	}
	return &DirObjects{Root: root}, nil
}

func (d *DirObjects) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return filepath.Join(d.Root, filepath.FromSlash(key)), nil
}

func (d *DirObjects) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	path, err := d.path(key)
	if err != nil {
		return err
	}
	tmp, err := d.createTemp(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := d.fill(ctx, tmp, r, size); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("put %s: %w", key, err)
	}
	return d.syncDir(filepath.Dir(path))
}

// createTemp makes a temp file in dir, creating dir; it retries when a
// concurrent Delete removed the directory between the two steps.
func (d *DirObjects) createTemp(dir string) (*os.File, error) {
	for attempt := 0; ; attempt++ {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		f, err := os.CreateTemp(dir, tempPrefix+"*")
		if err == nil || !errors.Is(err, fs.ErrNotExist) || attempt == 3 {
			return f, err
		}
	}
}

// fill copies exactly size bytes into f, syncs and closes it.
func (d *DirObjects) fill(ctx context.Context, f *os.File, r io.Reader, size int64) error {
	defer f.Close()
	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, size+1))
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("got %d bytes, announced %d", n, size)
	}
	if !d.NoSync {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	return f.Close()
}

func (d *DirObjects) syncDir(dir string) error {
	if d.NoSync {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

func (d *DirObjects) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	path, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return f, nil
}

func (d *DirObjects) Exists(ctx context.Context, key string) (bool, error) {
	path, err := d.path(key)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("exists %s: %w", key, err)
}

// Delete removes the file, then its directories while they are empty.
func (d *DirObjects) Delete(ctx context.Context, key string) error {
	path, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	root := filepath.Clean(d.Root)
	for dir := filepath.Dir(path); dir != root && strings.HasPrefix(dir, root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil { // not empty (or gone): stop
			break
		}
	}
	return nil
}

// List walks only the directory the prefix names (up to its last '/').
func (d *DirObjects) List(ctx context.Context, prefix string) ([]string, error) {
	start := d.Root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		if err := checkKey(prefix[:i]); err != nil {
			return nil, err
		}
		start = filepath.Join(d.Root, filepath.FromSlash(prefix[:i]))
	}
	var keys []string
	err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // nothing under prefix, or removed while walking
			}
			return err
		}
		if e.IsDir() || strings.HasPrefix(e.Name(), tempPrefix) {
			return ctx.Err()
		}
		rel, err := filepath.Rel(d.Root, p)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	slices.Sort(keys)
	return keys, nil
}
