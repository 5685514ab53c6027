package imagecache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// readOverlay refuses what is not a qcow2 header, and an absurd backing
// name, instead of guessing.
func TestReadOverlayRefuses(t *testing.T) {
	dir := t.TempDir()
	header := func(off uint64, n uint32) []byte {
		h := make([]byte, qcow2HeaderLen)
		copy(h, qcow2Magic)
		binary.BigEndian.PutUint64(h[8:], off)
		binary.BigEndian.PutUint32(h[16:], n)
		return h
	}
	cases := map[string][]byte{
		"empty":     nil,
		"short":     []byte(qcow2Magic),
		"raw":       bytes.Repeat([]byte{1}, 4096),
		"huge name": header(64, 1<<20),
	}
	for name, data := range cases {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := readOverlay(path); !errors.Is(err, errNotQCOW2) {
			t.Errorf("%s: %v, want errNotQCOW2", name, err)
		}
	}
	path := filepath.Join(dir, "name past the end")
	if err := os.WriteFile(path, header(4096, 10), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readOverlay(path); err == nil {
		t.Error("backing name past the end of the file accepted")
	}
}

// RootDisk will not take over a file that is not one of its overlays.
func TestRootDiskExistingFile(t *testing.T) {
	c, _, disks := newCache(t)
	data := pattern(256<<10, 8)
	putSnapshot(t, c, "snap-1", bytes.NewReader(data), int64(len(data)))
	path := filepath.Join(disks, "root.qcow2")
	if err := os.WriteFile(path, []byte("user data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.RootDisk(t.Context(), "snap-1", path, 0); !errors.Is(err, errNotQCOW2) {
		t.Errorf("RootDisk over a plain file: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "user data" {
		t.Error("the file was changed")
	}
}
