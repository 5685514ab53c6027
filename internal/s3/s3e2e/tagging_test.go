package s3e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func objectTags(t *testing.T, c *s3.Client, bucket, key string) map[string]string {
	t.Helper()
	out, err := c.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("GetObjectTagging %s/%s: %v", bucket, key, err)
	}
	return tagsOf(out.TagSet)
}

// TestObjectTagging covers object tags on the local-disk backend and
// through the external-S3 backend: x-amz-tagging on PutObject, CopyObject
// (COPY and REPLACE directives) and CreateMultipartUpload, the tagging
// operations, x-amz-tagging-count, and S3's limits.
func TestObjectTagging(t *testing.T) {
	b := storetest.Backends()[0]
	for name, mk := range map[string]func(t *testing.T) *env{
		"disk": func(t *testing.T) *env { return start(t, b) },
		"remote": func(t *testing.T) *env {
			be, _ := remoteBackend(t, b, "tags-")
			return startWith(t, controllertest.Start(t, b), be)
		},
	} {
		t.Run(name, func(t *testing.T) { testObjectTagging(t, mk(t), name == "disk") })
	}
}

// keepsObject: the backend changes tags in place (backend.MetaSetter),
// so a multipart object keeps its ETag and Last-Modified, as in S3.
func testObjectTagging(t *testing.T, e *env, keepsObject bool) {
	u, other := e.account(t, "tagger"), e.account(t, "stranger")
	c := u.S3
	ctx := context.Background()
	bucket := mkBucket(t, u, "tagged")
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("a"), Body: strings.NewReader("data"),
		Tagging: aws.String("project=kumo&cost%20center=42")})
	if err != nil {
		t.Fatal(err)
	}
	sameTags(t, "PutObject x-amz-tagging", objectTags(t, c, bucket, "a"), "project", "kumo", "cost center", "42")
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("a")})
	if err != nil {
		t.Fatal(err)
	}
	got.Body.Close()
	if aws.ToInt32(got.TagCount) != 2 {
		t.Errorf("GetObject x-amz-tagging-count %d, want 2", aws.ToInt32(got.TagCount))
	}

	// CopyObject copies the tags by default and replaces them on REPLACE.
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &bucket, Key: aws.String("copy"), CopySource: aws.String(bucket + "/a"),
		Tagging: aws.String("ignored=yes")})
	if err != nil {
		t.Fatal(err)
	}
	sameTags(t, "CopyObject (COPY)", objectTags(t, c, bucket, "copy"), "project", "kumo", "cost center", "42")
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &bucket, Key: aws.String("copy2"), CopySource: aws.String(bucket + "/a"),
		TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("new=1")})
	if err != nil {
		t.Fatal(err)
	}
	sameTags(t, "CopyObject (REPLACE)", objectTags(t, c, bucket, "copy2"), "new", "1")

	// Multipart: the tags given at the start land on the object.
	id := *must[*s3.CreateMultipartUploadOutput](t)(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket,
		Key: aws.String("mp"), Tagging: aws.String("kind=multipart")})).UploadId
	part := uploadPart(t, c, bucket, "mp", id, 1, []byte("one part"))
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: aws.String("mp"), UploadId: &id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{part}}})
	if err != nil {
		t.Fatal(err)
	}
	sameTags(t, "multipart upload", objectTags(t, c, bucket, "mp"), "kind", "multipart")
	before := must[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("mp")}))
	time.Sleep(1100 * time.Millisecond) // Last-Modified has whole seconds
	_, err = c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &bucket, Key: aws.String("mp"), Tagging: &types.Tagging{TagSet: tagSet("kind", "retagged")}})
	if err != nil {
		t.Fatal(err)
	}
	after := must[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("mp")}))
	if keepsObject && (aws.ToString(after.ETag) != aws.ToString(before.ETag) || !after.LastModified.Equal(*before.LastModified)) {
		t.Errorf("PutObjectTagging changed the object: ETag %s -> %s, Last-Modified %v -> %v", aws.ToString(before.ETag),
			aws.ToString(after.ETag), before.LastModified, after.LastModified)
	}
	sameTags(t, "PutObjectTagging of a multipart object", objectTags(t, c, bucket, "mp"), "kind", "retagged")

	// Put replaces the whole set; Delete empties it; the bytes stay.
	_, err = c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &bucket, Key: aws.String("a"), Tagging: &types.Tagging{TagSet: tagSet("only", "this")}})
	if err != nil {
		t.Fatal(err)
	}
	sameTags(t, "PutObjectTagging", objectTags(t, c, bucket, "a"), "only", "this")
	_, err = c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: &bucket, Key: aws.String("a")})
	if err != nil {
		t.Fatal(err)
	}
	sameTags(t, "DeleteObjectTagging", objectTags(t, c, bucket, "a"))
	if string(get(t, c, bucket, "a")) != "data" {
		t.Fatal("the tagging operations changed the object's bytes")
	}
	head := must[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("a")}))
	if head.TagCount != nil {
		t.Errorf("HeadObject of an untagged object: x-amz-tagging-count %d", *head.TagCount)
	}

	// Limits and errors, as AWS answers them.
	var eleven []string
	for i := range 11 {
		eleven = append(eleven, fmt.Sprintf("k%d", i), "v")
	}
	for what, set := range map[string][]types.Tag{
		"11 tags":          tagSet(eleven...),
		"duplicate keys":   tagSet("k", "1", "k", "2"),
		"a 129-char key":   tagSet(strings.Repeat("k", 129), "v"),
		"a 257-char value": tagSet("k", strings.Repeat("v", 257)),
		"an empty key":     tagSet("", "v"),
		"an aws: key":      tagSet("aws:cloudformation:stack", "v"),
		"a bad character":  tagSet("k", "semi;colon"),
	} {
		_, err = c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &bucket, Key: aws.String("a"), Tagging: &types.Tagging{TagSet: set}})
		wantCode(t, "PutObjectTagging with "+what, err, "InvalidTag")
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("dup"), Body: strings.NewReader("x"), Tagging: aws.String("k=1&k=2")})
	wantCode(t, "PutObject with a duplicate x-amz-tagging key", err, "InvalidArgument")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("many"), Body: strings.NewReader("x"),
		Tagging: aws.String(tagQuery(11))})
	wantCode(t, "PutObject with 11 tags", err, "InvalidTag")
	_, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &bucket, Key: aws.String("missing")})
	wantCode(t, "GetObjectTagging of a missing key", err, "NoSuchKey")
	_, err = other.S3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &bucket, Key: aws.String("copy")})
	wantCode(t, "another account's GetObjectTagging", err, "AccessDenied")
	_, err = other.S3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &bucket, Key: aws.String("copy"), Tagging: &types.Tagging{TagSet: tagSet("x", "y")}})
	wantCode(t, "another account's PutObjectTagging", err, "AccessDenied")

	var fiftyOne []string
	for i := range 51 {
		fiftyOne = append(fiftyOne, fmt.Sprintf("k%d", i), "v")
	}
	_, err = c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &bucket, Tagging: &types.Tagging{TagSet: tagSet(fiftyOne...)}})
	wantCode(t, "PutBucketTagging with 51 tags", err, "InvalidTag")
	_, err = c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &bucket, Tagging: &types.Tagging{TagSet: tagSet(fiftyOne[:100]...)}})
	if err != nil {
		t.Fatalf("PutBucketTagging with 50 tags: %v", err)
	}
	_, err = other.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &bucket})
	wantCode(t, "another account's GetBucketTagging", err, "AccessDenied")
	if n := len(tfReadBucket(t, c, bucket)); n != 50 {
		t.Errorf("GetBucketTagging: %d tags, want 50", n)
	}
}

func tagQuery(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf("k%d=v", i))
	}
	return strings.Join(parts, "&")
}
