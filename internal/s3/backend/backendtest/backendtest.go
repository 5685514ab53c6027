// Package backendtest is the conformance suite every object backend
// passes: the same calls and expectations for the local disk and for an
// external S3.
package backendtest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// Run runs the suite on a fresh backend made by open for each test.
func Run(t *testing.T, open func(t *testing.T) backend.Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b backend.Backend)
	}{
		{"ObjectRoundTrip", testObjectRoundTrip},
		{"Ranges", testRanges},
		{"OddKeys", testOddKeys},
		{"Listing", testListing},
		{"FailedWriteLeavesNothing", testFailedWrite},
		{"Multipart", testMultipart},
		{"Buckets", testBuckets},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// Bucket makes a bucket for a test.
func Bucket(t *testing.T, b backend.Backend, name string) string {
	t.Helper()
	if err := b.CreateBucket(context.Background(), name); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}

// Put stores data under key and fails the test on error.
func Put(t *testing.T, b backend.Backend, bucket, key string, data []byte) backend.Object {
	t.Helper()
	obj, err := b.PutObject(context.Background(), bucket, key, bytes.NewReader(data), int64(len(data)), backend.Meta{})
	if err != nil {
		t.Fatalf("put %s/%q: %v", bucket, key, err)
	}
	return obj
}

// Get reads a whole object.
func Get(t *testing.T, b backend.Backend, bucket, key string, rng *backend.ByteRange) ([]byte, *backend.Reader) {
	t.Helper()
	r, err := b.GetObject(context.Background(), bucket, key, rng)
	if err != nil {
		t.Fatalf("get %s/%q: %v", bucket, key, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s/%q: %v", bucket, key, err)
	}
	return data, r
}

func md5hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

func testObjectRoundTrip(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	bucket := Bucket(t, b, "round-trip")
	data := []byte("hello, object")
	meta := backend.Meta{ContentType: "text/plain", User: map[string]string{"color": "blue"},
		Headers: map[string]string{"Cache-Control": "no-cache"}, ACL: "public-read"}
	obj, err := b.PutObject(ctx, bucket, "a/b.txt", bytes.NewReader(data), int64(len(data)), meta)
	if err != nil {
		t.Fatal(err)
	}
	if obj.ETag != md5hex(data) || obj.Size != int64(len(data)) {
		t.Fatalf("put returned %+v, want ETag %s size %d", obj, md5hex(data), len(data))
	}
	got, r := Get(t, b, bucket, "a/b.txt", nil)
	if !bytes.Equal(got, data) || r.ETag != obj.ETag || r.ContentType != "text/plain" || r.User["color"] != "blue" ||
		r.Headers["Cache-Control"] != "no-cache" || r.ACL != "public-read" || r.LastModified.IsZero() {
		t.Fatalf("get returned %q %+v", got, r.Object)
	}
	head, err := b.HeadObject(ctx, bucket, "a/b.txt")
	if err != nil || head.ETag != obj.ETag || head.Size != obj.Size {
		t.Fatalf("head = %+v, %v", head, err)
	}
	Put(t, b, bucket, "a/b.txt", []byte("v2"))
	if got, _ := Get(t, b, bucket, "a/b.txt", nil); string(got) != "v2" {
		t.Fatalf("overwrite: got %q", got)
	}
	if err := b.DeleteObject(ctx, bucket, "a/b.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.HeadObject(ctx, bucket, "a/b.txt"); !errors.Is(err, backend.ErrNoSuchKey) {
		t.Fatalf("head after delete: %v, want ErrNoSuchKey", err)
	}
	if err := b.DeleteObject(ctx, bucket, "a/b.txt"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if _, err := b.GetObject(ctx, "no-such-bucket-x", "k", nil); !errors.Is(err, backend.ErrNoSuchBucket) {
		t.Fatalf("get from missing bucket: %v, want ErrNoSuchBucket", err)
	}
	Put(t, b, bucket, "empty", nil)
	if got, r := Get(t, b, bucket, "empty", nil); len(got) != 0 || r.ETag != md5hex(nil) {
		t.Fatalf("empty object: %q %+v", got, r.Object)
	}
}

func testRanges(t *testing.T, b backend.Backend) {
	bucket := Bucket(t, b, "ranges")
	Put(t, b, bucket, "k", []byte("0123456789"))
	for _, tc := range []struct {
		rng  backend.ByteRange
		want string
		off  int64
	}{
		{backend.ByteRange{First: 2, Last: 4}, "234", 2},
		{backend.ByteRange{First: 7, Last: -1}, "789", 7},
		{backend.ByteRange{First: 8, Last: 100}, "89", 8},
		{backend.ByteRange{Suffix: 3}, "789", 7},
		{backend.ByteRange{Suffix: 30}, "0123456789", 0},
	} {
		got, r := Get(t, b, bucket, "k", &tc.rng)
		if string(got) != tc.want || r.Offset != tc.off || r.Length != int64(len(tc.want)) || r.Size != 10 || !r.Ranged {
			t.Errorf("range %+v: got %q at %d+%d of %d", tc.rng, got, r.Offset, r.Length, r.Size)
		}
	}
	_, err := b.GetObject(context.Background(), bucket, "k", &backend.ByteRange{First: 10, Last: -1})
	if !errors.Is(err, backend.ErrInvalidRange) {
		t.Fatalf("range past the end: %v, want ErrInvalidRange", err)
	}
}

// OddKeys are keys that must stay inside their bucket and round-trip
// exactly.
func OddKeys() []string {
	return []string{
		"../escape", "../../../../etc/passwd", "a/../../b", "..", ".", "./x", "/leading", "trailing/", "a//b",
		"%2F..%2F", "back\\slash", "spaces and\ttabs", "ünïcødé/日本語/🙂", "a\x01b",
		strings.Repeat("long/", 200), strings.Repeat("x", 1024), "h" + strings.Repeat("0", 64), "upload.json",
	}
}

func testOddKeys(t *testing.T, b backend.Backend) {
	bucket := Bucket(t, b, "odd-keys")
	for i, key := range OddKeys() {
		Put(t, b, bucket, key, []byte(fmt.Sprint(i)))
	}
	for i, key := range OddKeys() {
		if got, _ := Get(t, b, bucket, key, nil); string(got) != fmt.Sprint(i) {
			t.Errorf("key %q: got %q, want %d", key, got, i)
		}
	}
	page, err := b.ListObjects(context.Background(), bucket, backend.ListQuery{MaxKeys: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Objects) != len(OddKeys()) {
		t.Fatalf("listed %d objects, want %d", len(page.Objects), len(OddKeys()))
	}
	for i := 1; i < len(page.Objects); i++ {
		if page.Objects[i-1].Key >= page.Objects[i].Key {
			t.Fatalf("listing not sorted: %q before %q", page.Objects[i-1].Key, page.Objects[i].Key)
		}
	}
}
