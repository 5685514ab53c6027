package s3e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestUnimplementedOperationsRunNothing reproduces issue 11: S3 calls
// Kumo does not implement ran another operation, because the router fell
// back to the plain operation for any subresource it did not know. Each
// call, made with aws-sdk-go-v2 where it has the operation and as a raw
// signed request where no SDK operation exists, must be refused and leave
// every bucket and object as it was.
func TestUnimplementedOperationsRunNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		u := e.account(t, "boto")
		ctx := context.Background()
		data, empty := mkBucket(t, u, "data"), mkBucket(t, u, "empty")
		put(t, u.S3, data, "k", []byte("original data"))
		before := state(t, u)
		notImplemented := func(what string, err error, opName string) {
			t.Helper()
			wantCode(t, what, err, "NotImplemented")
			if !strings.Contains(err.Error(), opName+" is not implemented by Kumo") {
				t.Errorf("%s: %v does not name %s", what, err, opName)
			}
			if after := state(t, u); after != before {
				t.Fatalf("%s changed the buckets:\nbefore:\n%s\nafter:\n%s", what, before, after)
			}
		}

		// PUT /data/k?encryption ran PutObject: the object became the XML body.
		_, err := u.S3.UpdateObjectEncryption(ctx, &s3.UpdateObjectEncryptionInput{Bucket: aws.String(data), Key: aws.String("k"),
			ObjectEncryption: &types.ObjectEncryptionMemberSSEKMS{Value: types.SSEKMSEncryption{
				KMSKeyArn: aws.String("arn:aws:kms:kumo-1:123456789012:key/k1")}}})
		notImplemented("UpdateObjectEncryption", err, "UpdateObjectEncryption")
		if got := get(t, u.S3, data, "k"); string(got) != "original data" {
			t.Fatalf("the object now holds %q", got)
		}

		// DELETE /empty?metadataConfiguration ran DeleteBucket.
		_, err = u.S3.DeleteBucketMetadataConfiguration(ctx, &s3.DeleteBucketMetadataConfigurationInput{Bucket: aws.String(empty)})
		notImplemented("DeleteBucketMetadataConfiguration", err, "DeleteBucketMetadataConfiguration")
		_, err = u.S3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(empty)})
		notImplemented("DeleteBucketEncryption", err, "DeleteBucketEncryption")

		// PUT /missing?versioning ran CreateBucket: 200, and an unversioned bucket.
		for _, bucket := range []string{"never-made", empty} {
			_, err = u.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
				VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
			notImplemented("PutBucketVersioning "+bucket, err, "PutBucketVersioning")
			_, err = u.S3.PutBucketAbac(ctx, &s3.PutBucketAbacInput{Bucket: aws.String(bucket),
				AbacStatus: &types.AbacStatus{Status: types.BucketAbacStatusEnabled}})
			notImplemented("PutBucketAbac "+bucket, err, "PutBucketAbac")
		}
		_, err = u.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("never-made")})
		wantCode(t, "HeadBucket never-made", err, "NotFound")

		// GET /data?abac, ?metadataConfiguration and ?session ran ListObjects.
		_, err = u.S3.GetBucketAbac(ctx, &s3.GetBucketAbacInput{Bucket: aws.String(data)})
		notImplemented("GetBucketAbac", err, "GetBucketAbac")
		_, err = u.S3.GetBucketMetadataConfiguration(ctx, &s3.GetBucketMetadataConfigurationInput{Bucket: aws.String(data)})
		notImplemented("GetBucketMetadataConfiguration", err, "GetBucketMetadataConfiguration")
		_, err = u.S3.CreateSession(ctx, &s3.CreateSessionInput{Bucket: aws.String(data)})
		notImplemented("CreateSession", err, "CreateSession")

		// DELETE /empty?versioning, ?uploads, ?location ran DeleteBucket. No
		// operation of any SDK sends them: raw signed requests. They are
		// methods the subresource does not take.
		for _, sub := range []string{"versioning", "uploads", "location", "metadataConfiguration&x-id=DeleteBucket"} {
			status, c, body := do(t, signedRequest(t, u, http.MethodDelete, e.URL+"/"+empty+"?"+sub, nil))
			if sub == "metadataConfiguration&x-id=DeleteBucket" {
				if status != http.StatusBadRequest || c != "InvalidRequest" {
					t.Errorf("DELETE ?%s: %d %s %s, want 400 InvalidRequest", sub, status, c, body)
				}
			} else if status != http.StatusMethodNotAllowed || c != "MethodNotAllowed" {
				t.Errorf("DELETE ?%s: %d %s %s, want 405 MethodNotAllowed", sub, status, c, body)
			}
			if after := state(t, u); after != before {
				t.Fatalf("DELETE ?%s changed the buckets:\n%s", sub, after)
			}
		}
		// A PUT of an object with an unknown subresource is not PutObject.
		status, c, _ := do(t, signedRequest(t, u, http.MethodPut, e.URL+"/"+data+"/k?encryption", []byte("<replaced/>")))
		if status != http.StatusNotImplemented || c != "NotImplemented" {
			t.Errorf("raw PUT ?encryption: %d %s, want 501 NotImplemented", status, c)
		}
		if after := state(t, u); after != before {
			t.Fatalf("raw PUT ?encryption changed the buckets:\n%s", after)
		}
	})
}
