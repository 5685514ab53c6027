package s3e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestAWSCLIUnimplementedOperations is issue 11's report as it was found:
// a current botocore (the AWS CLI's s3api, the same model as boto3) calling
// operations Kumo does not implement. Each answers NotImplemented naming
// the operation, and no bucket or object changes.
func TestAWSCLIUnimplementedOperations(t *testing.T) {
	if testing.Short() {
		t.Skip("the AWS CLI takes about a second per command")
	}
	e := start(t, storetest.Backends()[0])
	u := e.account(t, "boto")
	aws := newCLI(t, e.URL, u)
	mkBucket(t, u, "data")
	mkBucket(t, u, "empty")
	put(t, u.S3, "data", "k", []byte("original data"))
	before := state(t, u)
	kms := `{"SSEKMS":{"KMSKeyArn":"arn:aws:kms:kumo-1:123456789012:key/k1"}}`
	for _, c := range []struct {
		op   string
		args []string
	}{
		{"UpdateObjectEncryption", []string{"update-object-encryption", "--bucket", "data", "--key", "k", "--object-encryption", kms}},
		{"DeleteBucketMetadataConfiguration", []string{"delete-bucket-metadata-configuration", "--bucket", "empty"}},
		{"PutBucketVersioning", []string{"put-bucket-versioning", "--bucket", "never-made", "--versioning-configuration", "Status=Enabled"}},
		{"PutBucketAbac", []string{"put-bucket-abac", "--bucket", "never-made", "--abac-status", "Status=Enabled"}},
		{"GetBucketAbac", []string{"get-bucket-abac", "--bucket", "data"}},
		{"GetBucketMetadataConfiguration", []string{"get-bucket-metadata-configuration", "--bucket", "data"}},
		{"CreateSession", []string{"create-session", "--bucket", "data"}},
	} {
		errOut := aws.fail(append([]string{"s3api"}, c.args...)...)
		if !strings.Contains(errOut, "(NotImplemented)") || !strings.Contains(errOut, c.op+" is not implemented by Kumo") {
			t.Errorf("aws s3api %s: %s, want NotImplemented naming %s", c.args[0], errOut, c.op)
		}
		if after := state(t, u); after != before {
			t.Fatalf("aws s3api %s changed the buckets:\nbefore:\n%s\nafter:\n%s", c.args[0], before, after)
		}
	}
	out := filepath.Join(t.TempDir(), "k")
	aws.run("s3api", "get-object", "--bucket", "data", "--key", "k", out)
	if got, err := os.ReadFile(out); err != nil || string(got) != "original data" {
		t.Fatalf("the object now holds %q (%v)", got, err)
	}
}
