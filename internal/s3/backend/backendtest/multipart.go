package backendtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// failingReader returns n bytes, then an error, as a body whose signature
// check failed at the end or whose client went away.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("client went away")
	}
	m := min(len(p), f.n)
	for i := range p[:m] {
		p[i] = 'x'
	}
	f.n -= m
	return m, nil
}

func testFailedWrite(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	bucket := Bucket(t, b, "failed-writes")
	Put(t, b, bucket, "kept", []byte("old"))
	for _, body := range []io.Reader{&failingReader{n: 1000}, bytes.NewReader([]byte("short"))} {
		for _, key := range []string{"new", "kept"} {
			if _, err := b.PutObject(ctx, bucket, key, body, 100000, backend.Meta{}); err == nil {
				t.Fatalf("put %s with a broken body succeeded", key)
			}
		}
	}
	if _, err := b.PutObject(ctx, bucket, "long", bytes.NewReader([]byte("too long")), 3, backend.Meta{}); !errors.Is(err, backend.ErrShortBody) {
		t.Fatalf("put of a body longer than declared: %v, want ErrShortBody", err)
	}
	if got, _ := Get(t, b, bucket, "kept", nil); string(got) != "old" {
		t.Fatalf("a failed overwrite changed the object: %q", got)
	}
	keys, _, _ := listAll(t, b, bucket, backend.ListQuery{MaxKeys: 1000})
	if len(keys) != 1 || keys[0] != "kept" {
		t.Fatalf("after failed writes the bucket lists %q", keys)
	}
}

func testMultipart(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	bucket := Bucket(t, b, "multipart")
	id, err := b.CreateUpload(ctx, bucket, "big", backend.Meta{ContentType: "application/x-test", User: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	part1 := bytes.Repeat([]byte("a"), 5<<20)
	part2 := []byte("tail")
	p1, err := b.PutPart(ctx, bucket, "big", id, 1, bytes.NewReader(part1), int64(len(part1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.PutPart(ctx, bucket, "big", id, 2, &failingReader{n: 10}, 100); err == nil {
		t.Fatal("a broken part body was accepted")
	}
	p2, err := b.PutPart(ctx, bucket, "big", id, 2, bytes.NewReader(part2), int64(len(part2)))
	if err != nil {
		t.Fatal(err)
	}
	if p1.ETag != md5hex(part1) || p2.Size != 4 {
		t.Fatalf("parts: %+v %+v", p1, p2)
	}
	uploads, err := b.ListUploads(ctx, bucket, "")
	if err != nil || len(uploads) != 1 || uploads[0].ID != id || uploads[0].Key != "big" {
		t.Fatalf("list uploads: %+v, %v", uploads, err)
	}
	u, parts, err := b.ListParts(ctx, bucket, "big", id)
	if err != nil || len(parts) != 2 || parts[1].ETag != md5hex(part2) || u.Key != "big" {
		t.Fatalf("list parts: %+v %+v, %v", u, parts, err)
	}
	if _, _, err := b.ListParts(ctx, bucket, "other-key", id); !errors.Is(err, backend.ErrNoSuchUpload) {
		t.Fatalf("list parts under another key: %v, want ErrNoSuchUpload", err)
	}
	obj, err := b.CompleteUpload(ctx, bucket, "big", id, parts)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := backend.MultipartETag(parts)
	if obj.ETag != want || obj.Size != int64(len(part1)+len(part2)) {
		t.Fatalf("complete: %+v, want ETag %s", obj, want)
	}
	got, r := Get(t, b, bucket, "big", nil)
	if !bytes.Equal(got, append(part1, part2...)) || r.ContentType != "application/x-test" || r.User["k"] != "v" {
		t.Fatalf("completed object: %d bytes, %+v", len(got), r.Object)
	}
	if _, _, err := b.ListParts(ctx, bucket, "big", id); !errors.Is(err, backend.ErrNoSuchUpload) {
		t.Fatalf("parts of a completed upload: %v, want ErrNoSuchUpload", err)
	}
	id2, err := b.CreateUpload(ctx, bucket, "gone", backend.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AbortUpload(ctx, bucket, "gone", id2); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PutPart(ctx, bucket, "gone", id2, 1, bytes.NewReader(part2), 4); !errors.Is(err, backend.ErrNoSuchUpload) {
		t.Fatalf("part for an aborted upload: %v, want ErrNoSuchUpload", err)
	}
	if uploads, _ := b.ListUploads(ctx, bucket, ""); len(uploads) != 0 {
		t.Fatalf("uploads left: %+v", uploads)
	}
}

func testBuckets(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	bucket := Bucket(t, b, "lifecycle")
	if err := b.CreateBucket(ctx, bucket); err != nil {
		t.Fatalf("creating an existing bucket again: %v", err)
	}
	Put(t, b, bucket, "k", []byte("v"))
	if err := b.DeleteBucket(ctx, bucket); !errors.Is(err, backend.ErrBucketNotEmpty) {
		t.Fatalf("delete non-empty bucket: %v, want ErrBucketNotEmpty", err)
	}
	if _, err := b.CreateUpload(ctx, bucket, "pending", backend.Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteObject(ctx, bucket, "k"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteBucket(ctx, bucket); err != nil {
		t.Fatalf("delete empty bucket with a pending upload: %v", err)
	}
	if _, err := b.ListObjects(ctx, bucket, backend.ListQuery{MaxKeys: 10}); !errors.Is(err, backend.ErrNoSuchBucket) {
		t.Fatalf("list deleted bucket: %v, want ErrNoSuchBucket", err)
	}
}
