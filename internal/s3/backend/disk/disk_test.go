package disk_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
	"github.com/kumo-cloud/kumo/internal/s3/backend/backendtest"
	"github.com/kumo-cloud/kumo/internal/s3/backend/disk"
)

func open(t *testing.T, root string) *disk.Backend {
	t.Helper()
	b, err := disk.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend { return open(t, t.TempDir()) })
}

// TestKeysStayInsideTheirBucket writes every odd key and checks that no
// file appeared outside the bucket directory and none is a directory.
func TestKeysStayInsideTheirBucket(t *testing.T) {
	root := t.TempDir()
	b := open(t, filepath.Join(root, "objects"))
	bucket := backendtest.Bucket(t, b, "jail")
	for _, key := range backendtest.OddKeys() {
		backendtest.Put(t, b, bucket, key, []byte("x"))
	}
	bucketDir := filepath.Join(root, "objects", "buckets", bucket)
	err := filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			if path != bucketDir && strings.HasPrefix(path, bucketDir) {
				t.Errorf("a key made a directory: %s", path)
			}
			return nil
		}
		if filepath.Dir(path) != bucketDir {
			t.Errorf("a key wrote outside its bucket: %s", path)
		}
		if len(filepath.Base(path)) > 255 {
			t.Errorf("file name too long: %d bytes", len(filepath.Base(path)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"..", ".", "a/b", "", "x\x00"} {
		if err := b.CreateBucket(context.Background(), bad); err == nil {
			t.Errorf("bucket name %q was accepted", bad)
		}
	}
	if _, _, err := b.ListParts(context.Background(), bucket, "k", "../../../buckets"); err == nil {
		t.Error("an upload id with a path was accepted")
	}
}

// TestOpenClearsTemporaryFiles: a write cut short by a crash leaves a
// temporary file; the next Open removes it and it never shows as an object.
func TestOpenClearsTemporaryFiles(t *testing.T) {
	root := t.TempDir()
	b := open(t, root)
	bucket := backendtest.Bucket(t, b, "crash")
	if err := os.WriteFile(filepath.Join(root, "tmp", "put-123"), []byte("half an object"), 0o600); err != nil {
		t.Fatal(err)
	}
	page, err := b.ListObjects(context.Background(), bucket, backend.ListQuery{MaxKeys: 10})
	if err != nil || len(page.Objects) != 0 {
		t.Fatalf("list: %+v, %v", page, err)
	}
	open(t, root)
	if entries, _ := os.ReadDir(filepath.Join(root, "tmp")); len(entries) != 0 {
		t.Fatalf("temporary files left after Open: %v", entries)
	}
}

// TestCorruptFileIsAnError: a file that is not an object file is reported,
// not served as data.
func TestCorruptFileIsAnError(t *testing.T) {
	root := t.TempDir()
	b := open(t, root)
	bucket := backendtest.Bucket(t, b, "corrupt")
	backendtest.Put(t, b, bucket, "k", []byte("data"))
	if err := os.WriteFile(filepath.Join(root, "buckets", bucket, "ok"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetObject(context.Background(), bucket, "k", nil); err == nil {
		t.Fatal("a corrupt object file was served")
	}
	if _, err := b.PutObject(context.Background(), bucket, "k", bytes.NewReader([]byte("fixed")), 5, backend.Meta{}); err != nil {
		t.Fatal(err)
	}
}
