package s3e2e

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/s3/backend"
	"github.com/kumo-cloud/kumo/internal/s3/backend/backendtest"
	"github.com/kumo-cloud/kumo/internal/s3/backend/remote"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// remoteBackend starts a Kumo S3 server (the "remote" store) and returns
// a remote backend using an account of it, with bucket prefix prefix.
func remoteBackend(t *testing.T, b storetest.Backend, prefix string) (*remote.Backend, *env) {
	t.Helper()
	store := start(t, b)
	acct := store.ctl.NewAccount(t, "storage")
	be, err := remote.New(remote.Config{Endpoint: store.URL, Region: controllertest.Region,
		AccessKeyID: acct.KeyID, SecretAccessKey: acct.Secret, BucketPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return be, store
}

func TestRemoteBackendConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		be, _ := remoteBackend(t, storetest.Backends()[0], "kb-")
		return be
	})
}

// TestKumoOnKumo: one Kumo's S3 API keeps its objects in another Kumo's
// S3 API, and behaves the same to its users.
func TestKumoOnKumo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		be, storage := remoteBackend(t, b, "front-")
		front := startWith(t, controllertest.Start(t, b), be)
		a, other := front.account(t, "team-a"), front.account(t, "team-b")
		ctx := context.Background()
		bucket := mkBucket(t, a, "images")
		data := bytes.Repeat([]byte("kumo"), 3<<20) // 12 MiB, multipart below
		put(t, a.S3, bucket, "small", []byte("hello"))
		id := *must[*s3.CreateMultipartUploadOutput](t)(a.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String("big")})).UploadId
		parts := []types.CompletedPart{uploadPart(t, a.S3, bucket, "big", id, 1, data[:6<<20]), uploadPart(t, a.S3, bucket, "big", id, 2, data[6<<20:])}
		done, err := a.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: aws.String("big"), UploadId: &id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		if err != nil {
			t.Fatal(err)
		}
		if *done.ETag != multipartETag(data[:6<<20], data[6<<20:]) || !bytes.Equal(get(t, a.S3, bucket, "big"), data) {
			t.Fatalf("multipart through the remote backend: ETag %s", *done.ETag)
		}
		keys, _, _ := listV2(t, a.S3, s3.ListObjectsV2Input{Bucket: &bucket})
		if len(keys) != 2 {
			t.Fatalf("listing through the remote backend: %q", keys)
		}
		_, err = other.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("small")})
		wantCode(t, "another account through the remote backend", err, "AccessDenied")
		// The bytes really are in the storage Kumo, under the prefix.
		owner := storage.account(t, "inspector")
		_, err = owner.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("front-images")})
		wantCode(t, "the storage Kumo's other accounts", err, "Forbidden")
	})
}
