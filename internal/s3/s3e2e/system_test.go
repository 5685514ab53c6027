package s3e2e

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kumo-cloud/kumo/internal/imageimport"
	kumos3 "github.com/kumo-cloud/kumo/internal/s3"
	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// The controller plugs these in as its snapshot object store and its
// image import source.
var (
	_ snapshot.Objects   = kumos3.System{}
	_ imageimport.Source = kumos3.Source{}
)

func TestSystemObjects(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	a := e.account(t, "team-a")
	ctx := context.Background()
	sys := e.server.System()
	sys.NotFound = snapshot.ErrNotFound
	for _, k := range []string{"snapshots/snap-1/manifest", "snapshots/snap-1/chunks/00", "snapshots/snap-2/manifest"} {
		if err := sys.Put(ctx, k, strings.NewReader(k), int64(len(k))); err != nil {
			t.Fatal(err)
		}
	}
	rc, err := sys.Get(ctx, "snapshots/snap-1/manifest")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if string(data) != "snapshots/snap-1/manifest" {
		t.Fatalf("Get: %q", data)
	}
	keys, err := sys.List(ctx, "snapshots/snap-1/")
	if err != nil || !reflect.DeepEqual(keys, []string{"snapshots/snap-1/chunks/00", "snapshots/snap-1/manifest"}) {
		t.Fatalf("List: %q, %v", keys, err)
	}
	if err := sys.Delete(ctx, "snapshots/snap-2/manifest"); err != nil {
		t.Fatal(err)
	}
	if ok, err := sys.Exists(ctx, "snapshots/snap-2/manifest"); ok || err != nil {
		t.Fatalf("Exists after Delete: %v, %v", ok, err)
	}
	if _, err := sys.Get(ctx, "snapshots/snap-2/manifest"); !errors.Is(err, snapshot.ErrNotFound) {
		t.Fatalf("missing key: %v, want snapshot.ErrNotFound", err)
	}
	// No account reaches the system bucket through the API.
	_, err = a.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(kumos3.SystemBucket)})
	wantCode(t, "list the system bucket", err, "NoSuchBucket")
	_, err = a.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(kumos3.SystemBucket)})
	wantCode(t, "create the system bucket", err, "BucketAlreadyExists")
}

func TestImportSource(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	a, other := e.account(t, "team-a"), e.account(t, "team-b")
	ctx := context.Background()
	bucket := mkBucket(t, a, "team-a-images")
	put(t, a.S3, bucket, "disk.qcow2", []byte("QFI\xfb image"))
	src := kumos3.Source{Server: e.server, Denied: imageimport.ErrSourceDenied, Missing: imageimport.ErrSourceMissing}
	rc, size, err := src.Open(ctx, a.ID, bucket, "disk.qcow2")
	if err != nil || size != 10 {
		t.Fatalf("owner: %d, %v", size, err)
	}
	rc.Close()
	if _, _, err := src.Open(ctx, other.ID, bucket, "disk.qcow2"); !errors.Is(err, imageimport.ErrSourceDenied) {
		t.Fatalf("another account: %v, want ErrSourceDenied", err)
	}
	if _, _, err := src.Open(ctx, other.ID, bucket, "nothing-here"); !errors.Is(err, imageimport.ErrSourceDenied) {
		t.Fatalf("another account, missing key: %v, want ErrSourceDenied (no existence leak)", err)
	}
	if _, _, err := src.Open(ctx, a.ID, bucket, "nothing-here"); !errors.Is(err, imageimport.ErrSourceMissing) {
		t.Fatalf("missing key: %v, want ErrSourceMissing", err)
	}
	if _, _, err := src.Open(ctx, a.ID, "no-such-bucket", "k"); !errors.Is(err, imageimport.ErrSourceMissing) {
		t.Fatalf("missing bucket: %v, want ErrSourceMissing", err)
	}
	policy := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"` + other.ID + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team-a-images/*"}]}`
	must[*s3.PutBucketPolicyOutput](t)(a.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: &policy}))
	rc, _, err = src.Open(ctx, other.ID, bucket, "disk.qcow2")
	if err != nil {
		t.Fatalf("account granted by policy: %v", err)
	}
	rc.Close()
}
