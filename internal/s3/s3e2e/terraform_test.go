package s3e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// tfConfigRead checks one call of the provider's sequence: success when
// want is "", else exactly the 404 "not configured" code AWS answers for a
// bucket without that configuration (terraform-aws-provider.md,
// aws_s3_bucket: any other error is FATAL).
func tfConfigRead(t *testing.T, what string, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("%s: %v (FATAL for Terraform)", what, err)
		}
		return
	}
	wantCode(t, what, err, want)
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusNotFound {
		t.Errorf("%s: %v, want 404", what, err)
	}
}

// tfReadBucket replays aws_s3_bucket's Read, in the provider's order, and
// returns the tags it read (nil for NoSuchTagSet).
func tfReadBucket(t *testing.T, c *s3.Client, bucket string) map[string]string {
	t.Helper()
	ctx := context.Background()
	b := aws.String(bucket)
	_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: b})
	tfConfigRead(t, "HeadBucket", err, "")
	_, err = c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
	tfConfigRead(t, "GetBucketPolicy", err, "NoSuchBucketPolicy")
	_, err = c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: b})
	tfConfigRead(t, "GetBucketAcl", err, "")
	_, err = c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: b})
	tfConfigRead(t, "GetBucketCors", err, "NoSuchCORSConfiguration")
	_, err = c.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: b})
	tfConfigRead(t, "GetBucketWebsite", err, "NoSuchWebsiteConfiguration")
	v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
	tfConfigRead(t, "GetBucketVersioning", err, "")
	if v.Status != "" {
		t.Errorf("GetBucketVersioning: status %q for a new bucket", v.Status)
	}
	acc, err := c.GetBucketAccelerateConfiguration(ctx, &s3.GetBucketAccelerateConfigurationInput{Bucket: b})
	tfConfigRead(t, "GetBucketAccelerateConfiguration", err, "")
	if acc.Status != "" {
		t.Errorf("GetBucketAccelerateConfiguration: status %q, want none", acc.Status)
	}
	pay, err := c.GetBucketRequestPayment(ctx, &s3.GetBucketRequestPaymentInput{Bucket: b})
	tfConfigRead(t, "GetBucketRequestPayment", err, "")
	if pay.Payer != types.PayerBucketOwner {
		t.Errorf("GetBucketRequestPayment: payer %q, want BucketOwner", pay.Payer)
	}
	lg, err := c.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: b})
	tfConfigRead(t, "GetBucketLogging", err, "")
	if lg.LoggingEnabled != nil {
		t.Errorf("GetBucketLogging: %+v, want logging off", lg.LoggingEnabled)
	}
	_, err = c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
	tfConfigRead(t, "GetBucketLifecycleConfiguration", err, "NoSuchLifecycleConfiguration")
	_, err = c.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: b})
	tfConfigRead(t, "GetBucketReplication", err, "ReplicationConfigurationNotFoundError")
	_, err = c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
	tfConfigRead(t, "GetBucketEncryption", err, "ServerSideEncryptionConfigurationNotFoundError")
	_, err = c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: b})
	tfConfigRead(t, "GetObjectLockConfiguration", err, "ObjectLockConfigurationNotFoundError")
	head, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: b})
	tfConfigRead(t, "HeadBucket (region)", err, "")
	if aws.ToString(head.BucketRegion) != controllertest.Region {
		t.Errorf("HeadBucket: region %q, want %s", aws.ToString(head.BucketRegion), controllertest.Region)
	}
	tags, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
	if code(err) == "NoSuchTagSet" {
		return nil
	}
	tfConfigRead(t, "GetBucketTagging", err, "")
	return tagsOf(tags.TagSet)
}

func tagsOf(set []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range set {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func tagSet(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func sameTags(t *testing.T, what string, got map[string]string, want ...string) {
	t.Helper()
	w := tagsOf(tagSet(want...))
	if len(got) != len(w) {
		t.Fatalf("%s: tags %v, want %v", what, got, w)
	}
	for k, v := range w {
		if got[k] != v {
			t.Fatalf("%s: tags %v, want %v", what, got, w)
		}
	}
}

// TestTerraformS3BucketCalls replays aws_s3_bucket: create with
// LocationConstraint, HEAD, the tag read and put, the full Read, a tag
// update and removal, and the delete.
func TestTerraformS3BucketCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		e := start(t, be)
		c := e.account(t, "tf").S3
		ctx := context.Background()
		b := aws.String("tf-bucket")
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b, CreateBucketConfiguration: &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(controllertest.Region)}})
		tfConfigRead(t, "CreateBucket", err, "")
		_, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
		wantCode(t, "GetBucketTagging of a new bucket", err, "NoSuchTagSet")
		_, err = c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &types.Tagging{TagSet: tagSet("Name", "tf", "env", "dev")}})
		tfConfigRead(t, "PutBucketTagging", err, "")
		sameTags(t, "Read after create", tfReadBucket(t, c, "tf-bucket"), "Name", "tf", "env", "dev")
		sameTags(t, "second Read", tfReadBucket(t, c, "tf-bucket"), "Name", "tf", "env", "dev")

		_, err = c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &types.Tagging{TagSet: tagSet("Name", "tf2")}})
		tfConfigRead(t, "PutBucketTagging (update)", err, "")
		sameTags(t, "Read after update", tfReadBucket(t, c, "tf-bucket"), "Name", "tf2")
		_, err = c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: b})
		tfConfigRead(t, "DeleteBucketTagging", err, "")
		if got := tfReadBucket(t, c, "tf-bucket"); got != nil {
			t.Fatalf("Read after DeleteBucketTagging: tags %v, want NoSuchTagSet", got)
		}

		// The reads Terraform does not make but the brief names.
		_, err = c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b})
		tfConfigRead(t, "GetBucketOwnershipControls", err, "OwnershipControlsNotFoundError")
		_, err = c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
		tfConfigRead(t, "GetPublicAccessBlock", err, "NoSuchPublicAccessBlockConfiguration")

		_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b})
		tfConfigRead(t, "DeleteBucket", err, "")
		_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: b})
		if code(err) != "NotFound" && code(err) != "NoSuchBucket" {
			t.Fatalf("HeadBucket after delete: %v, want 404", err)
		}
		_, err = c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: b})
		wantCode(t, "GetBucketCors of a deleted bucket", err, "NoSuchBucket")
	})
}

// tfReadObject replays aws_s3_object's Read: HEAD, then GetObjectTagging.
func tfReadObject(t *testing.T, c *s3.Client, bucket, key string) (*s3.HeadObjectOutput, map[string]string) {
	t.Helper()
	ctx := context.Background()
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	tfConfigRead(t, "HeadObject", err, "")
	if head.SSEKMSKeyId != nil {
		t.Errorf("HeadObject sends x-amz-server-side-encryption-aws-kms-key-id: the provider would call KMS")
	}
	tags, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	tfConfigRead(t, "GetObjectTagging", err, "")
	return head, tagsOf(tags.TagSet)
}

// TestTerraformS3ObjectCalls replays aws_s3_object: PUT with x-amz-tagging,
// the Read (ETag the body's MD5), a tags-only update, and the delete.
func TestTerraformS3ObjectCalls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		e := start(t, be)
		c := e.account(t, "tf").S3
		ctx := context.Background()
		bucket := mkBucket(t, &user{S3: c}, "tf-objects")
		body := []byte("hello from terraform\n")
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/file.txt"),
			Body: bytes.NewReader(body), ContentType: aws.String("text/plain"), Tagging: aws.String("Name=file&team=a%20b")})
		tfConfigRead(t, "PutObject", err, "")
		head, tags := tfReadObject(t, c, bucket, "dir/file.txt")
		sum := md5.Sum(body)
		if strings.Trim(aws.ToString(head.ETag), `"`) != hex.EncodeToString(sum[:]) || aws.ToString(head.ContentType) != "text/plain" {
			t.Errorf("HeadObject: ETag %s, Content-Type %s", aws.ToString(head.ETag), aws.ToString(head.ContentType))
		}
		if aws.ToInt32(head.TagCount) != 2 {
			t.Errorf("HeadObject: x-amz-tagging-count %d, want 2", aws.ToInt32(head.TagCount))
		}
		sameTags(t, "object Read", tags, "Name", "file", "team", "a b")

		_, err = c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("dir/file.txt"),
			Tagging: &types.Tagging{TagSet: tagSet("Name", "file2")}})
		tfConfigRead(t, "PutObjectTagging", err, "")
		head2, tags := tfReadObject(t, c, bucket, "dir/file.txt")
		sameTags(t, "object Read after tag update", tags, "Name", "file2")
		if aws.ToString(head2.ETag) != aws.ToString(head.ETag) {
			t.Errorf("PutObjectTagging changed the ETag: %s, was %s", aws.ToString(head2.ETag), aws.ToString(head.ETag))
		}
		if got := get(t, c, bucket, "dir/file.txt"); !bytes.Equal(got, body) {
			t.Fatalf("object after PutObjectTagging holds %q", got)
		}

		_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/file.txt")})
		tfConfigRead(t, "DeleteObject", err, "")
		_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/file.txt")})
		if code(err) != "NotFound" {
			t.Fatalf("HeadObject after delete: %v, want 404 NotFound", err)
		}
		_, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("dir/file.txt")})
		wantCode(t, "GetObjectTagging of a deleted object", err, "NoSuchKey")
	})
}
