package s3e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash/crc32"
	"hash/crc64"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func b64(sum []byte) string { return base64.StdEncoding.EncodeToString(sum) }

// TestStoredChecksums: the checksum a PutObject carries (as a header or,
// as the SDK sends it by default, an aws-chunked trailer) is kept with the
// object and returned with ChecksumMode=ENABLED on GetObject and
// HeadObject, where the SDK checks it against the bytes; a range gets
// none, as in S3.
func TestStoredChecksums(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	u := e.account(t, "sums")
	c, ctx := u.S3, context.Background()
	bucket := mkBucket(t, u, "sums")
	data := bytes.Repeat([]byte("checksummed "), 10000)
	crc32c := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	crc32c.Write(data)
	nvme := crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5))
	nvme.Write(data)
	sha := sha256.Sum256(data)
	ieee := crc32.NewIEEE()
	ieee.Write(data)
	for _, tc := range []struct {
		alg  types.ChecksumAlgorithm
		want string
		got  func(*s3.HeadObjectOutput) *string
	}{
		{types.ChecksumAlgorithmCrc32c, b64(crc32c.Sum(nil)), func(o *s3.HeadObjectOutput) *string { return o.ChecksumCRC32C }},
		{types.ChecksumAlgorithmCrc64nvme, b64(nvme.Sum(nil)), func(o *s3.HeadObjectOutput) *string { return o.ChecksumCRC64NVME }},
		{types.ChecksumAlgorithmSha256, b64(sha[:]), func(o *s3.HeadObjectOutput) *string { return o.ChecksumSHA256 }},
	} {
		key := "obj-" + string(tc.alg)
		in := &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data), ChecksumAlgorithm: tc.alg}
		if _, err := c.PutObject(ctx, in); err != nil {
			t.Fatalf("PutObject %s: %v", tc.alg, err)
		}
		head := must[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled}))
		if got := aws.ToString(tc.got(head)); got != tc.want || head.ChecksumType != types.ChecksumTypeFullObject {
			t.Errorf("HeadObject %s: checksum %q type %q, want %q FULL_OBJECT", tc.alg, got, head.ChecksumType, tc.want)
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(out.Body) // the SDK validates the checksum as it reads
		out.Body.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("GetObject %s with ChecksumMode: %v", tc.alg, err)
		}
		plain := must[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key}))
		if tc.got(plain) != nil {
			t.Errorf("HeadObject %s without ChecksumMode returned a checksum", tc.alg)
		}
	}
	// A CRC32 in a signed aws-chunked trailer, as SDKs stream over HTTP.
	if status, code, body := do(t, chunkedPut(t, u, e.URL+"/"+bucket+"/trailer", data, 64<<10, true, false)); status != 200 {
		t.Fatalf("chunked PUT with a trailer: %d %s %s", status, code, body)
	}
	head := must[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("trailer"), ChecksumMode: types.ChecksumModeEnabled}))
	if got := aws.ToString(head.ChecksumCRC32); got != b64(ieee.Sum(nil)) {
		t.Errorf("HeadObject of a trailer upload: CRC32 %q, want %q", got, b64(ieee.Sum(nil)))
	}
	rng, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("obj-SHA256"), Range: aws.String("bytes=0-9"),
		ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	rng.Body.Close()
	if rng.ChecksumSHA256 != nil {
		t.Errorf("a ranged GetObject returned the whole object's checksum")
	}
	// A wrong checksum header stores nothing.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("bad"), Body: bytes.NewReader(data),
		ChecksumSHA256: aws.String(b64(make([]byte, 32)))})
	wantCode(t, "PutObject with a wrong x-amz-checksum-sha256", err, "BadDigest")
}

// TestGetObjectAttributes: the attributes asked for, as S3 answers them
// (ETag unquoted, PartsCount for a multipart object, the stored checksum).
func TestGetObjectAttributes(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	u := e.account(t, "attrs")
	c, ctx := u.S3, context.Background()
	bucket := mkBucket(t, u, "attrs")
	data := []byte("attributes")
	sha := sha256.Sum256(data)
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("k"), Body: bytes.NewReader(data),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil {
		t.Fatal(err)
	}
	all := []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesChecksum, types.ObjectAttributesObjectParts,
		types.ObjectAttributesStorageClass, types.ObjectAttributesObjectSize}
	out := must[*s3.GetObjectAttributesOutput](t)(c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &bucket, Key: aws.String("k"), ObjectAttributes: all}))
	if aws.ToString(out.ETag) != hexMD5(data) || aws.ToInt64(out.ObjectSize) != int64(len(data)) ||
		out.StorageClass != types.StorageClassStandard || out.ObjectParts != nil || out.LastModified == nil {
		t.Errorf("GetObjectAttributes: ETag %s size %d class %s parts %v modified %v", aws.ToString(out.ETag), aws.ToInt64(out.ObjectSize),
			out.StorageClass, out.ObjectParts, out.LastModified)
	}
	if out.Checksum == nil || aws.ToString(out.Checksum.ChecksumSHA256) != b64(sha[:]) || out.Checksum.ChecksumType != types.ChecksumTypeFullObject {
		t.Errorf("GetObjectAttributes checksum: %+v", out.Checksum)
	}
	only := must[*s3.GetObjectAttributesOutput](t)(c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &bucket, Key: aws.String("k"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectSize}}))
	if only.ETag != nil || only.Checksum != nil || aws.ToInt64(only.ObjectSize) != int64(len(data)) {
		t.Errorf("GetObjectAttributes ObjectSize only: %+v", only)
	}

	id := *must[*s3.CreateMultipartUploadOutput](t)(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String("mp")})).UploadId
	part := uploadPart(t, c, bucket, "mp", id, 1, data)
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: aws.String("mp"), UploadId: &id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{part}}})
	if err != nil {
		t.Fatal(err)
	}
	mp := must[*s3.GetObjectAttributesOutput](t)(c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &bucket, Key: aws.String("mp"), ObjectAttributes: all}))
	if mp.ObjectParts == nil || aws.ToInt32(mp.ObjectParts.TotalPartsCount) != 1 {
		t.Errorf("GetObjectAttributes of a multipart object: parts %+v", mp.ObjectParts)
	}
	_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &bucket, Key: aws.String("missing"), ObjectAttributes: all})
	wantCode(t, "GetObjectAttributes of a missing key", err, "NoSuchKey")
	_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &bucket, Key: aws.String("k"), ObjectAttributes: []types.ObjectAttributes{"Color"}})
	wantCode(t, "GetObjectAttributes of an unknown attribute", err, "InvalidArgument")
}

func hexMD5(data []byte) string {
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}
