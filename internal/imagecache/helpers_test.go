package imagecache

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/qemuimg"
	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// countingObjects counts chunk reads and can hold them until released.
type countingObjects struct {
	snapshot.Objects
	chunkGets atomic.Int64
	gate      chan struct{} // nil: never blocks
	delay     atomic.Int64  // nanoseconds each chunk read takes
}

func (o *countingObjects) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if strings.HasPrefix(key, "chunks/") {
		o.chunkGets.Add(1)
		if d := time.Duration(o.delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if o.gate != nil {
			select {
			case <-o.gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	return o.Objects.Get(ctx, key)
}

const testChunk = 64 << 10

// newCache returns a cache over fresh in-memory objects, with overlays
// expected under the returned directory.
func newCache(t testing.TB) (*Cache, *countingObjects, string) {
	t.Helper()
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not installed")
	}
	objs := &countingObjects{Objects: snapshot.NewMemObjects()}
	disks := t.TempDir()
	c := &Cache{Dir: filepath.Join(t.TempDir(), "cache"), Images: qemuimg.Tool{}, Overlays: []string{disks},
		Snapshots: &snapshot.Store{Objects: objs, ChunkSize: testChunk}}
	return c, objs, disks
}

// pattern is n bytes with no all-zero chunk.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i/512) ^ byte(i) ^ seed | 1
	}
	return b
}

func putSnapshot(t testing.TB, c *Cache, id string, r io.Reader, size int64) *snapshot.Manifest {
	t.Helper()
	m, err := c.Snapshots.Write(context.Background(), id, r, size, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type imgInfo struct {
	VirtualSize int64  `json:"virtual-size"`
	Format      string `json:"format"`
	Backing     string `json:"full-backing-filename"`
	BackingFmt  string `json:"backing-filename-format"`
}

// qemuInfo asks qemu-img itself about an overlay.
func qemuInfo(t *testing.T, path string) imgInfo {
	t.Helper()
	out, err := exec.Command("qemu-img", "info", "--output=json", "-f", "qcow2", path).Output()
	if err != nil {
		t.Fatalf("qemu-img info %s: %v", path, err)
	}
	var info imgInfo
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	return info
}

// flatten reads an overlay back through qemu-img convert -O raw.
func flatten(t *testing.T, overlay string) []byte {
	t.Helper()
	data, err := os.ReadFile(flatFile(t, overlay))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// flatFile converts an overlay to a raw file and returns its path.
func flatFile(t *testing.T, overlay string) string {
	t.Helper()
	raw := filepath.Join(t.TempDir(), "flat.raw")
	out, err := exec.Command("qemu-img", "convert", "-f", "qcow2", "-O", "raw", overlay, raw).CombinedOutput()
	if err != nil {
		t.Fatalf("qemu-img convert: %v\n%s", err, out)
	}
	return raw
}

// headThenZeros reports whether the file at path is head followed by
// zeros up to size bytes, reading it a piece at a time.
func headThenZeros(t *testing.T, path string, head []byte, size int64) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := make([]byte, len(head))
	if _, err := io.ReadFull(f, got); err != nil || !bytes.Equal(got, head) {
		return false
	}
	buf, zero := make([]byte, 1<<20), make([]byte, 1<<20)
	total := int64(len(head))
	for {
		n, err := f.Read(buf)
		if !bytes.Equal(buf[:n], zero[:n]) {
			return false
		}
		total += int64(n)
		if err == io.EOF {
			return total == size
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// cacheFiles lists the names in the cache directory.
func cacheFiles(t *testing.T, c *Cache) []string {
	t.Helper()
	entries, err := os.ReadDir(c.Dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
