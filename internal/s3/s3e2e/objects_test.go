package s3e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func md5Quoted(b []byte) string {
	sum := md5.Sum(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func TestBuckets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		a, other := e.account(t, "team-a"), e.account(t, "team-b")
		ctx := context.Background()
		mkBucket(t, a, "team-a-images")
		_, err := a.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("team-a-images")})
		wantCode(t, "create own bucket again", err, "BucketAlreadyOwnedByYou")
		_, err = other.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("team-a-images")})
		wantCode(t, "create another account's bucket", err, "BucketAlreadyExists")
		for _, bad := range []string{"ab", "Upper", "under_score", "192.168.1.1", "-dash", "a..b", "kumo-system"} {
			_, err = a.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bad)})
			if c := code(err); c != "InvalidBucketName" && c != "BucketAlreadyExists" {
				t.Errorf("bucket name %q: got %q, want InvalidBucketName", bad, c)
			}
		}
		mkBucket(t, a, "team-a-data")
		list := must[*s3.ListBucketsOutput](t)(a.S3.ListBuckets(ctx, &s3.ListBucketsInput{}))
		if len(list.Buckets) != 2 || *list.Buckets[0].Name != "team-a-data" || *list.Owner.ID != a.ID {
			t.Fatalf("ListBuckets: %+v owner %+v", list.Buckets, list.Owner)
		}
		if l := must[*s3.ListBucketsOutput](t)(other.S3.ListBuckets(ctx, &s3.ListBucketsInput{})); len(l.Buckets) != 0 {
			t.Fatalf("team-b sees team-a's buckets: %+v", l.Buckets)
		}
		if _, err := a.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("team-a-data")}); err != nil {
			t.Fatal(err)
		}
		_, err = a.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")})
		wantCode(t, "head missing bucket", err, "NotFound")
		_, err = a.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("team-a-data"), ExpectedBucketOwner: aws.String(other.ID)})
		wantCode(t, "head with the wrong expected owner", err, "Forbidden")
		_, err = a.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("team-a-data"), ExpectedBucketOwner: aws.String(a.ID)})
		wantCode(t, "head with the right expected owner", err, "")
		loc := must[*s3.GetBucketLocationOutput](t)(a.S3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("team-a-data")}))
		if string(loc.LocationConstraint) != "kumo-1" {
			t.Fatalf("location %q", loc.LocationConstraint)
		}
		put(t, a.S3, "team-a-data", "k", []byte("v"))
		_, err = a.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("team-a-data")})
		wantCode(t, "delete non-empty bucket", err, "BucketNotEmpty")
		must[*s3.DeleteObjectOutput](t)(a.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("team-a-data"), Key: aws.String("k")}))
		must[*s3.DeleteBucketOutput](t)(a.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("team-a-data")}))
		_, err = a.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("team-a-data")})
		wantCode(t, "list deleted bucket", err, "NoSuchBucket")
		mkBucket(t, other, "team-a-data") // the name is free again
	})
}

func TestObjects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		a := e.account(t, "team-a")
		ctx := context.Background()
		bucket := mkBucket(t, a, "objects")
		data := []byte("0123456789abcdef")
		out, err := a.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("dir/file.txt"), Body: bytes.NewReader(data),
			ContentType: aws.String("text/plain"), Metadata: map[string]string{"Color": "blue", "shape": "round"},
			CacheControl: aws.String("max-age=60")})
		if err != nil {
			t.Fatal(err)
		}
		if *out.ETag != md5Quoted(data) {
			t.Fatalf("PutObject ETag %s, want %s", *out.ETag, md5Quoted(data))
		}
		got := must[*s3.GetObjectOutput](t)(a.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("dir/file.txt")}))
		body, _ := io.ReadAll(got.Body)
		if !bytes.Equal(body, data) || *got.ContentType != "text/plain" || got.Metadata["color"] != "blue" ||
			got.Metadata["shape"] != "round" || *got.ETag != md5Quoted(data) || got.LastModified == nil || *got.CacheControl != "max-age=60" {
			t.Fatalf("GetObject: %q %+v", body, got)
		}
		head := must[*s3.HeadObjectOutput](t)(a.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("dir/file.txt")}))
		if *head.ContentLength != int64(len(data)) || head.Metadata["color"] != "blue" {
			t.Fatalf("HeadObject: %+v", head)
		}
		rng := must[*s3.GetObjectOutput](t)(a.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("dir/file.txt"), Range: aws.String("bytes=4-7")}))
		part, _ := io.ReadAll(rng.Body)
		if string(part) != "4567" || *rng.ContentRange != "bytes 4-7/16" {
			t.Fatalf("range: %q %s", part, *rng.ContentRange)
		}
		_, err = a.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("dir/file.txt"), Range: aws.String("bytes=16-")})
		wantCode(t, "range past the end", err, "InvalidRange")
		_, err = a.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("missing")})
		wantCode(t, "missing key", err, "NoSuchKey")
		_, err = a.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("missing")})
		wantCode(t, "head missing key", err, "NotFound")
		_, err = a.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("dir/file.txt"), IfNoneMatch: out.ETag})
		wantCode(t, "If-None-Match", err, "NotModified")
		_, err = a.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("dir/file.txt"), IfMatch: aws.String(`"nope"`)})
		wantCode(t, "If-Match", err, "PreconditionFailed")
		_, err = a.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k")})
		wantCode(t, "missing bucket", err, "NoSuchBucket")
		put(t, a.S3, bucket, "empty", nil)
		if got := get(t, a.S3, bucket, "empty"); len(got) != 0 {
			t.Fatalf("empty object: %q", got)
		}
	})
}

func TestCopyObject(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	a := e.account(t, "team-a")
	ctx := context.Background()
	src, dst := mkBucket(t, a, "copy-src"), mkBucket(t, a, "copy-dst")
	_, err := a.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &src, Key: aws.String("a b/ü.txt"), Body: strings.NewReader("payload"),
		ContentType: aws.String("text/x-test"), Metadata: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &dst, Key: aws.String("copy"), CopySource: aws.String(src + "/a b/ü.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if *out.CopyObjectResult.ETag != md5Quoted([]byte("payload")) {
		t.Fatalf("copy ETag %s", *out.CopyObjectResult.ETag)
	}
	head := must[*s3.HeadObjectOutput](t)(a.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &dst, Key: aws.String("copy")}))
	if *head.ContentType != "text/x-test" || head.Metadata["k"] != "v" {
		t.Fatalf("copied metadata: %+v", head)
	}
	_, err = a.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &dst, Key: aws.String("copy2"), CopySource: aws.String(src + "/a b/ü.txt"),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/new"), Metadata: map[string]string{"n": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	head = must[*s3.HeadObjectOutput](t)(a.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &dst, Key: aws.String("copy2")}))
	if *head.ContentType != "text/new" || head.Metadata["n"] != "1" || head.Metadata["k"] != "" {
		t.Fatalf("replaced metadata: %+v", head)
	}
	_, err = a.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &src, Key: aws.String("a b/ü.txt"), CopySource: aws.String(src + "/a b/ü.txt")})
	wantCode(t, "copy onto itself", err, "InvalidRequest")
	_, err = a.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &dst, Key: aws.String("x"), CopySource: aws.String(src + "/missing")})
	wantCode(t, "copy of a missing key", err, "NoSuchKey")
}

func TestDeleteObjects(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	a := e.account(t, "team-a")
	ctx := context.Background()
	bucket := mkBucket(t, a, "multi-delete")
	for _, k := range []string{"a", "b", "c"} {
		put(t, a.S3, bucket, k, []byte(k))
	}
	out, err := a.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("a")}, {Key: aws.String("b")}, {Key: aws.String("never-existed")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Deleted) != 3 || len(out.Errors) != 0 {
		t.Fatalf("DeleteObjects: %+v %+v", out.Deleted, out.Errors)
	}
	list := must[*s3.ListObjectsV2Output](t)(a.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket}))
	if len(list.Contents) != 1 || *list.Contents[0].Key != "c" {
		t.Fatalf("left after DeleteObjects: %+v", list.Contents)
	}
}
