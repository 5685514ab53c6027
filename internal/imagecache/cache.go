// Package imagecache keeps, per node, one local raw copy ("base") of each
// image snapshot an instance boots from, and makes root disks as qcow2
// overlays on it, so creating a root disk takes the same time whatever the
// image's size.
//
// Layout of Dir: <snapshot-id>.raw, read-only, complete once it exists
// (written to .tmp-<snapshot-id>-* first, verified chunk by chunk, fsynced
// and renamed); nbd.sock, where ServeNBD lets QEMU read bases still being
// written (see LazyRootDisk). One Cache value owns a Dir: two processes must not share it.
package imagecache

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/kumo-cloud/kumo/internal/qemuimg"
	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// Cache is a node's image cache. Set the exported fields, then use it by
// pointer; it must not be copied after first use.
type Cache struct {
	Dir       string
	Snapshots *snapshot.Store
	Images    qemuimg.Images
	Logger    *slog.Logger // nil: discard
	// Overlays are directories (searched recursively) holding root disks:
	// Prune never removes a base a qcow2 file under them still backs.
	Overlays []string

	mu      sync.Mutex         // guards flights, pins, serving and socket
	flights map[string]*flight // fetches in progress, by snapshot id
	pins    map[string]int     // RootDisk calls in progress, by snapshot id
	serving context.Context    // ServeNBD's, while it runs: lazy fills end with it
	socket  string             // ServeNBD's socket
	// disks is held shared while an overlay is made on a base, and alone
	// by Prune, so Prune sees every overlay made before it looks.
	disks sync.RWMutex
}

const (
	baseSuffix = ".raw"
	tempPrefix = ".tmp-"
)

func (c *Cache) log() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// dir is Dir made absolute: overlays record their base's path as given.
func (c *Cache) dir() (string, error) {
	if c.Dir == "" {
		return "", fmt.Errorf("image cache: no directory")
	}
	abs, err := filepath.Abs(c.Dir)
	if err != nil {
		return "", fmt.Errorf("image cache %s: %w", c.Dir, err)
	}
	return abs, nil
}

// basePath is where snapshotID's base lives once fetched.
func (c *Cache) basePath(snapshotID string) (string, error) {
	if err := checkID(snapshotID); err != nil {
		return "", err
	}
	dir, err := c.dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, snapshotID+baseSuffix), nil
}

// checkID accepts what the snapshot store accepts as an id: 1 to 128 of
// [A-Za-z0-9._-], not starting with a dot, so it is one safe file name.
func checkID(id string) error {
	if id == "" || len(id) > 128 || id[0] == '.' {
		return fmt.Errorf("image cache: snapshot id %q: invalid", id)
	}
	ok := strings.IndexFunc(id, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-')
	}) < 0
	if !ok {
		return fmt.Errorf("image cache: snapshot id %q: invalid character", id)
	}
	return nil
}

// regularFile reports whether path is an existing regular file.
func regularFile(path string) (bool, error) {
	fi, err := os.Stat(path)
	switch {
	case os.IsNotExist(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("image cache: %w", err)
	case !fi.Mode().IsRegular():
		return false, fmt.Errorf("image cache: %s: not a regular file", path)
	}
	return true, nil
}

// syncFile flushes a file written by another process (qemu-img).
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
