package s3e2e

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestConditionalWrites covers If-Match / If-None-Match on PutObject and
// CompleteMultipartUpload as S3 answers them.
func TestConditionalWrites(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	u := e.account(t, "writer")
	c, ctx := u.S3, context.Background()
	bucket := mkBucket(t, u, "cond")
	putIf := func(key, body string, set func(*s3.PutObjectInput)) (*s3.PutObjectOutput, error) {
		in := &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: strings.NewReader(body)}
		set(in)
		return c.PutObject(ctx, in)
	}
	first, err := putIf("k", "v1", func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
	if err != nil {
		t.Fatalf("If-None-Match: * on a new key: %v", err)
	}
	_, err = putIf("k", "v2", func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
	wantCode(t, "If-None-Match: * on an existing key", err, "PreconditionFailed")
	_, err = putIf("k", "v2", func(in *s3.PutObjectInput) { in.IfMatch = aws.String(`"0123"`) })
	wantCode(t, "If-Match with another ETag", err, "PreconditionFailed")
	_, err = putIf("missing", "v2", func(in *s3.PutObjectInput) { in.IfMatch = first.ETag })
	wantCode(t, "If-Match on a missing key", err, "NoSuchKey")
	_, err = putIf("k", "v2", func(in *s3.PutObjectInput) { in.IfNoneMatch = first.ETag })
	wantCode(t, "If-None-Match with an ETag on a write", err, "NotImplemented")
	if _, err := putIf("k", "v2", func(in *s3.PutObjectInput) { in.IfMatch = first.ETag }); err != nil {
		t.Fatalf("If-Match with the current ETag: %v", err)
	}
	if got := get(t, c, bucket, "k"); string(got) != "v2" {
		t.Fatalf("after the conditional writes the object holds %q", got)
	}

	// CompleteMultipartUpload takes the same conditions.
	complete := func(key string, set func(*s3.CompleteMultipartUploadInput)) error {
		id := *must[*s3.CreateMultipartUploadOutput](t)(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String(key)})).UploadId
		part := uploadPart(t, c, bucket, key, id, 1, []byte("multipart "+key))
		in := &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: aws.String(key), UploadId: &id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{part}}}
		set(in)
		_, err := c.CompleteMultipartUpload(ctx, in)
		return err
	}
	err = complete("k", func(in *s3.CompleteMultipartUploadInput) { in.IfNoneMatch = aws.String("*") })
	wantCode(t, "CompleteMultipartUpload If-None-Match: * on an existing key", err, "PreconditionFailed")
	if err := complete("fresh", func(in *s3.CompleteMultipartUploadInput) { in.IfNoneMatch = aws.String("*") }); err != nil {
		t.Fatalf("CompleteMultipartUpload If-None-Match: * on a new key: %v", err)
	}
	cur := must[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("k")}))
	if err := complete("k", func(in *s3.CompleteMultipartUploadInput) { in.IfMatch = cur.ETag }); err != nil {
		t.Fatalf("CompleteMultipartUpload If-Match with the current ETag: %v", err)
	}
}

// TestConcurrentCreateOnlyWrites is OpenTofu's S3-native state lock
// (use_lockfile): clients race to create the lock object with
// If-None-Match: *; exactly one wins, each loser sees 412 or 409, the
// object holds the winner's bytes, and after the winner deletes it (the
// unlock) the next round again has exactly one winner.
func TestConcurrentCreateOnlyWrites(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	u := e.account(t, "tofu")
	bucket := mkBucket(t, u, "state")
	const clients = 8
	for round := range 3 {
		var wg sync.WaitGroup
		errs := make([]error, clients)
		bodies := make([][]byte, clients)
		start := make(chan struct{})
		for i := range clients {
			bodies[i] = bytes.Repeat([]byte(fmt.Sprintf("lock %d.%d ", round, i)), 64<<10)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = u.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("env/terraform.tfstate.tflock"),
					Body: bytes.NewReader(bodies[i]), IfNoneMatch: aws.String("*")})
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch code(err) {
			case "":
				if winner >= 0 {
					t.Fatalf("round %d: clients %d and %d both took the lock", round, winner, i)
				}
				winner = i
			case "PreconditionFailed", "ConditionalRequestConflict":
			default:
				t.Fatalf("round %d: client %d: %v", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody took the lock: %v", round, errs)
		}
		if got := get(t, u.S3, bucket, "env/terraform.tfstate.tflock"); !bytes.Equal(got, bodies[winner]) {
			t.Fatalf("round %d: the lock object is not the winner's", round)
		}
		_, err := u.S3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String("env/terraform.tfstate.tflock")})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestConditionalReads covers If-Match, If-None-Match, If-Modified-Since
// and If-Unmodified-Since on GetObject and HeadObject (304/412 as S3),
// and x-amz-copy-source-if-* on CopyObject (always 412).
func TestConditionalReads(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	u := e.account(t, "reader")
	c, ctx := u.S3, context.Background()
	bucket := mkBucket(t, u, "reads")
	etag := put(t, c, bucket, "k", []byte("data")).ETag
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	key := aws.String("k")
	for _, tc := range []struct {
		what string
		in   s3.GetObjectInput
		want string
	}{
		{"If-Match other", s3.GetObjectInput{IfMatch: aws.String(`"abc"`)}, "PreconditionFailed"},
		{"If-Match current", s3.GetObjectInput{IfMatch: etag}, ""},
		{"If-None-Match current", s3.GetObjectInput{IfNoneMatch: etag}, "NotModified"},
		{"If-None-Match other", s3.GetObjectInput{IfNoneMatch: aws.String(`"abc"`)}, ""},
		{"If-Modified-Since future", s3.GetObjectInput{IfModifiedSince: &future}, "NotModified"},
		{"If-Modified-Since past", s3.GetObjectInput{IfModifiedSince: &past}, ""},
		{"If-Unmodified-Since past", s3.GetObjectInput{IfUnmodifiedSince: &past}, "PreconditionFailed"},
		{"If-Match current beats If-Unmodified-Since past", s3.GetObjectInput{IfMatch: etag, IfUnmodifiedSince: &past}, ""},
		{"If-None-Match other beats If-Modified-Since future", s3.GetObjectInput{IfNoneMatch: aws.String(`"abc"`), IfModifiedSince: &future}, ""},
	} {
		in := tc.in
		in.Bucket, in.Key = &bucket, key
		out, err := c.GetObject(ctx, &in)
		if err == nil {
			out.Body.Close()
		}
		wantCode(t, "GetObject "+tc.what, err, tc.want)
		_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: key, IfMatch: in.IfMatch, IfNoneMatch: in.IfNoneMatch,
			IfModifiedSince: in.IfModifiedSince, IfUnmodifiedSince: in.IfUnmodifiedSince})
		headWant := map[string]string{"PreconditionFailed": "PreconditionFailed", "NotModified": "NotModified"}[tc.want]
		wantCode(t, "HeadObject "+tc.what, err, headWant)
	}

	src := aws.String(bucket + "/k")
	for _, tc := range []struct {
		what string
		in   s3.CopyObjectInput
		want string
	}{
		{"if-match other", s3.CopyObjectInput{CopySourceIfMatch: aws.String(`"abc"`)}, "PreconditionFailed"},
		{"if-none-match current", s3.CopyObjectInput{CopySourceIfNoneMatch: etag}, "PreconditionFailed"},
		{"if-modified-since future", s3.CopyObjectInput{CopySourceIfModifiedSince: &future}, "PreconditionFailed"},
		{"if-unmodified-since past", s3.CopyObjectInput{CopySourceIfUnmodifiedSince: &past}, "PreconditionFailed"},
		{"if-match current and if-unmodified-since past", s3.CopyObjectInput{CopySourceIfMatch: etag, CopySourceIfUnmodifiedSince: &past}, ""},
		{"if-none-match other and if-modified-since future", s3.CopyObjectInput{CopySourceIfNoneMatch: aws.String(`"abc"`), CopySourceIfModifiedSince: &future}, ""},
		{"if-modified-since past", s3.CopyObjectInput{CopySourceIfModifiedSince: &past}, ""},
	} {
		in := tc.in
		in.Bucket, in.Key, in.CopySource = &bucket, aws.String("copy"), src
		_, err := c.CopyObject(ctx, &in)
		wantCode(t, "CopyObject "+tc.what, err, tc.want)
	}
}
