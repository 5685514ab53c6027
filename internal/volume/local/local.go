// Package local is the embedded volume backend: each volume is a qcow2
// file of exactly its size in bytes, in one directory of the node's data
// directory. QEMU opens it as qcow2 over a file node; the node exports it
// over NBD when another node copies it away (see docs/volumes.md).
package local

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/volume"
)

// Ext is the file name extension of a volume.
const Ext = ".qcow2"

// idRE keeps volume ids usable as file and QEMU node names.
var idRE = regexp.MustCompile(`^vol-[0-9a-f]{8,17}$`)

// Backend keeps volumes as qcow2 files in Dir.
type Backend struct {
	Dir     string // absolute; created on first use
	QemuImg string // the qemu-img binary; "qemu-img" from PATH when empty
}

var _ volume.Backend = (*Backend)(nil)

// Name implements volume.Backend.
func (b *Backend) Name() string { return nodeapi.VolumeBackendLocal }

// Path is the file of volume id.
func (b *Backend) Path(id string) string { return filepath.Join(b.Dir, id+Ext) }

func (b *Backend) qemuImg() string {
	if b.QemuImg != "" {
		return b.QemuImg
	}
	return "qemu-img"
}

func checkID(id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("volume id %q: want vol- and 8 to 17 hex digits", id)
	}
	return nil
}

// Create implements volume.Backend: a new qcow2 of exactly size bytes
// (no preallocation: zeros cost nothing), made under a temp name and
// renamed, so a volume file is complete once it exists.
func (b *Backend) Create(ctx context.Context, id string, size int64) error {
	if err := checkID(id); err != nil {
		return err
	}
	if size <= 0 || size%512 != 0 {
		return fmt.Errorf("create volume %s: size %d: want a positive multiple of 512", id, size)
	}
	if exists(b.Path(id)) {
		return nil
	}
	return b.publish(ctx, id, func(tmp string) error {
		return b.run(ctx, "create", "-q", "-f", "qcow2", tmp, strconv.FormatInt(size, 10))
	})
}

// Fill creates volume id of size bytes from src, a file or a URL qemu-img
// reads (nbd://host:port/export) in srcFormat, skipping zeros (the copy
// is sparse). An existing volume is kept as it is.
func (b *Backend) Fill(ctx context.Context, id, src, srcFormat string, size int64) error {
	if err := checkID(id); err != nil {
		return err
	}
	if exists(b.Path(id)) {
		return nil
	}
	return b.publish(ctx, id, func(tmp string) error {
		err := b.run(ctx, "convert", "-q", "-f", srcFormat, "-O", "qcow2", "-S", "4k", "--", src, tmp)
		if err != nil {
			return err
		}
		got, err := virtualSize(tmp)
		switch {
		case err != nil:
			return err
		case got > size:
			return fmt.Errorf("source %s holds %d bytes, more than the volume's %d", src, got, size)
		case got < size:
			return b.run(ctx, "resize", "-q", "-f", "qcow2", tmp, strconv.FormatInt(size, 10))
		}
		return nil
	})
}

// publish makes the volume's file with build(tmp), syncs it and renames it
// into place.
func (b *Backend) publish(ctx context.Context, id string, build func(tmp string) error) error {
	if err := os.MkdirAll(b.Dir, 0o700); err != nil {
		return fmt.Errorf("volume %s: %w", id, err)
	}
	tmp := filepath.Join(b.Dir, "."+id+".tmp")
	_ = os.Remove(tmp) // left by a crash
	err := build(tmp)
	if err == nil {
		err = syncFile(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, b.Path(id))
	}
	if err == nil {
		err = syncFile(b.Dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("volume %s: %w", id, err)
	}
	return nil
}

// Size implements volume.Backend, from the qcow2 header: it needs no lock
// on the image, so it also works while QEMU has the volume open.
func (b *Backend) Size(ctx context.Context, id string) (int64, error) {
	if err := checkID(id); err != nil {
		return 0, err
	}
	n, err := virtualSize(b.Path(id))
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("volume %s: %w", id, volume.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("volume %s: %w", id, err)
	}
	return n, nil
}

// Grow implements volume.Backend. A volume that is already size bytes or
// larger is left alone, which makes Grow safe after QMP block_resize has
// grown an attached volume (QEMU holds the image's write lock then, and
// only QEMU may change it: for a local volume block_resize does the work).
func (b *Backend) Grow(ctx context.Context, id string, size int64) error {
	cur, err := b.Size(ctx, id)
	if err != nil {
		return err
	}
	if size <= cur {
		return nil
	}
	if size%512 != 0 {
		return fmt.Errorf("grow volume %s: size %d: want a multiple of 512", id, size)
	}
	if err := b.run(ctx, "resize", "-q", "-f", "qcow2", b.Path(id), strconv.FormatInt(size, 10)); err != nil {
		return fmt.Errorf("grow volume %s: %w", id, err)
	}
	return nil
}

// Delete implements volume.Backend.
func (b *Backend) Delete(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	if err := os.Remove(b.Path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete volume %s: %w", id, err)
	}
	return nil
}

// List implements volume.Backend.
func (b *Backend) List(ctx context.Context) ([]string, error) {
	ents, err := os.ReadDir(b.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	var ids []string
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), Ext); ok && e.Type().IsRegular() && idRE.MatchString(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// Blockdev implements volume.Backend: qcow2 over a file node, discards
// passed down so that freed blocks leave the file.
func (b *Backend) Blockdev(id, nodeName string) map[string]any {
	return map[string]any{
		"driver": "qcow2", "node-name": nodeName, "discard": "unmap",
		"file": map[string]any{"driver": "file", "filename": b.Path(id), "discard": "unmap"},
	}
}

func (b *Backend) run(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, b.qemuImg(), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("qemu-img %s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}

// virtualSize reads a qcow2 file's virtual size from its header.
func virtualSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var h [32]byte
	if _, err := io.ReadFull(f, h[:]); err != nil || string(h[:4]) != "QFI\xfb" {
		return 0, fmt.Errorf("%s: not a qcow2 image", path)
	}
	return int64(binary.BigEndian.Uint64(h[24:32])), nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
