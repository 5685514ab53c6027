package s3e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// multipartETag computes S3's multipart ETag from the parts' bytes.
func multipartETag(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		sum := md5.Sum(p)
		h.Write(sum[:])
	}
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(h.Sum(nil)), len(parts))
}

func uploadPart(t *testing.T, c *s3.Client, bucket, key, id string, n int32, data []byte) types.CompletedPart {
	t.Helper()
	out, err := c.UploadPart(context.Background(), &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: &id,
		PartNumber: aws.Int32(n), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("upload part %d: %v", n, err)
	}
	return types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag}
}

func TestMultipartUpload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		a := e.account(t, "team-a")
		ctx := context.Background()
		bucket, key := mkBucket(t, a, "multipart"), "disk.img"
		create := must[*s3.CreateMultipartUploadOutput](t)(a.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
			Bucket: &bucket, Key: &key, ContentType: aws.String("application/octet-stream"), Metadata: map[string]string{"os": "debian"}}))
		id := *create.UploadId
		p1, p2 := bytes.Repeat([]byte{1}, 5<<20), []byte("the last part may be small")
		parts := []types.CompletedPart{uploadPart(t, a.S3, bucket, key, id, 1, p1), uploadPart(t, a.S3, bucket, key, id, 2, p2)}

		listed := must[*s3.ListPartsOutput](t)(a.S3.ListParts(ctx, &s3.ListPartsInput{Bucket: &bucket, Key: &key, UploadId: &id}))
		if len(listed.Parts) != 2 || *listed.Parts[0].Size != 5<<20 || *listed.Parts[1].ETag != md5Quoted(p2) {
			t.Fatalf("ListParts: %+v", listed.Parts)
		}
		uploads := must[*s3.ListMultipartUploadsOutput](t)(a.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket}))
		if len(uploads.Uploads) != 1 || *uploads.Uploads[0].UploadId != id {
			t.Fatalf("ListMultipartUploads: %+v", uploads.Uploads)
		}
		_, err := a.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: &id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{parts[0], {PartNumber: aws.Int32(3), ETag: parts[1].ETag}}}})
		wantCode(t, "complete with a part never uploaded", err, "InvalidPart")
		_, err = a.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: &id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{parts[1], parts[0]}}})
		wantCode(t, "complete out of order", err, "InvalidPartOrder")
		done, err := a.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: &id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		if err != nil {
			t.Fatal(err)
		}
		if *done.ETag != multipartETag(p1, p2) {
			t.Fatalf("multipart ETag %s, want %s", *done.ETag, multipartETag(p1, p2))
		}
		if got := get(t, a.S3, bucket, key); !bytes.Equal(got, append(p1, p2...)) {
			t.Fatalf("assembled object has %d bytes", len(got))
		}
		head := must[*s3.HeadObjectOutput](t)(a.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key}))
		if head.Metadata["os"] != "debian" || *head.ETag != *done.ETag {
			t.Fatalf("assembled object: %+v", head)
		}
		_, err = a.S3.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: &id, PartNumber: aws.Int32(1), Body: bytes.NewReader(p2)})
		wantCode(t, "part for a completed upload", err, "NoSuchUpload")
	})
}

func TestMultipartErrors(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	a := e.account(t, "team-a")
	ctx := context.Background()
	bucket, key := mkBucket(t, a, "multipart-errors"), "k"
	id := *must[*s3.CreateMultipartUploadOutput](t)(a.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})).UploadId
	small := []types.CompletedPart{uploadPart(t, a.S3, bucket, key, id, 1, []byte("small")), uploadPart(t, a.S3, bucket, key, id, 2, []byte("tail"))}
	_, err := a.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: &id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: small}})
	wantCode(t, "complete with a small first part", err, "EntityTooSmall")
	_, err = a.S3.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: &id, PartNumber: aws.Int32(10001), Body: bytes.NewReader(nil)})
	wantCode(t, "part number 10001", err, "InvalidArgument")
	must[*s3.AbortMultipartUploadOutput](t)(a.S3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: &id}))
	_, err = a.S3.ListParts(ctx, &s3.ListPartsInput{Bucket: &bucket, Key: &key, UploadId: &id})
	wantCode(t, "parts of an aborted upload", err, "NoSuchUpload")
	_, err = a.S3.ListParts(ctx, &s3.ListPartsInput{Bucket: &bucket, Key: &key, UploadId: aws.String("../../etc")})
	wantCode(t, "a made-up upload id", err, "NoSuchUpload")
}

func TestUploadPartCopy(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	a := e.account(t, "team-a")
	ctx := context.Background()
	src, dst := mkBucket(t, a, "partcopy-src"), mkBucket(t, a, "partcopy-dst")
	data := bytes.Repeat([]byte("0123456789"), 600<<10) // 6 MB
	put(t, a.S3, src, "big", data)
	id := *must[*s3.CreateMultipartUploadOutput](t)(a.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &dst, Key: aws.String("copy")})).UploadId
	var parts []types.CompletedPart
	for i, r := range []string{"bytes=0-5242879", fmt.Sprintf("bytes=5242880-%d", len(data)-1)} {
		out, err := a.S3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: &dst, Key: aws.String("copy"), UploadId: &id,
			PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String(src + "/big"), CopySourceRange: aws.String(r)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
	}
	done, err := a.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &dst, Key: aws.String("copy"), UploadId: &id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}
	if *done.ETag != multipartETag(data[:5<<20], data[5<<20:]) || !bytes.Equal(get(t, a.S3, dst, "copy"), data) {
		t.Fatalf("part-copied object differs (ETag %s)", *done.ETag)
	}
}
