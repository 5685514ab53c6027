package s3e2e

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestNoAuthorizationBypass tries, as an anonymous caller and as another
// account, every trick that has opened S3 front ends before: forged
// identity headers, internal-looking query parameters, paths that climb
// out of a bucket, encoded slashes, and keys that look like paths. None
// may read, list, change or delete team-a's object.
func TestNoAuthorizationBypass(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		a, other := e.account(t, "team-a"), e.account(t, "team-b")
		secret := mkBucket(t, a, "team-a-private")
		own := mkBucket(t, other, "team-b-own")
		put(t, a.S3, secret, "secret.txt", []byte("top secret"))

		forged := http.Header{
			"X-Amz-Account-Id": {a.ID}, "X-Amz-Expected-Bucket-Owner": {a.ID}, "X-Amz-Security-Token": {"internal"},
			"X-Forwarded-For": {"127.0.0.1"}, "X-Real-Ip": {"127.0.0.1"}, "X-Amz-Acl": {"public-read"},
			"X-Kumo-Internal": {"1"}, "X-Kumo-Account": {a.ID}, "X-Amz-User-Agent": {"kumo-internal"},
		}
		paths := []string{
			"/team-a-private/secret.txt",
			"/team-a-private/secret.txt?x-id=GetObject",
			"/team-a-private/secret.txt?X-Amz-Credential=" + a.KeyID + "%2F20260101%2Fkumo-1%2Fs3%2Faws4_request",
			"/team-a-private/secret.txt?X-Amz-Signature=00",
			"/team-a-private/secret.txt?Signature=x&AWSAccessKeyId=" + a.KeyID,
			"/team-a-private/secret.txt?acl",
			"/team-a-private?list-type=2",
			"/team-a-private?policy",
			"/team-b-own/../team-a-private/secret.txt",
			"/team-b-own/..%2Fteam-a-private%2Fsecret.txt",
			"/team-b-own%2F..%2Fteam-a-private%2Fsecret.txt",
			"/%2E%2E/team-a-private/secret.txt",
			"//team-a-private/secret.txt",
			"/./team-a-private/secret.txt",
			"/team-b-own/%2E%2E/%2E%2E/team-a-private/secret.txt",
			"/kumo-system/",
			"/kumo-system/anything",
		}
		try := func(who string, req *http.Request) {
			t.Helper()
			for k, v := range forged {
				req.Header[k] = v
			}
			status, c, body := do(t, req)
			ownBucket := who == "team-b" && strings.HasPrefix(req.URL.Path, "/team-b-own/")
			switch {
			case bytes.Contains(body, []byte("top secret")):
				t.Errorf("%s %s %s: %d leaked the secret", who, req.Method, req.URL.RequestURI(), status)
			case status/100 == 2 && !ownBucket:
				t.Errorf("%s %s %s: %d %s, want a refusal", who, req.Method, req.URL.RequestURI(), status, c)
			case status >= 500:
				t.Errorf("%s %s %s: server error %d %s", who, req.Method, req.URL.RequestURI(), status, body)
			}
		}
		for _, p := range paths {
			for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete} {
				req, err := http.NewRequest(method, e.URL+p, strings.NewReader(""))
				if err != nil {
					t.Fatal(err)
				}
				try("anonymous", req)
				try("team-b", signedRequestHash(t, other.KeyID, other.Secret, method, e.URL+p, nil,
					"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", time.Now()))
			}
		}
		// Keys that look like paths are just keys in team-b's own bucket.
		for _, key := range []string{"../team-a-private/secret.txt", "../../buckets/team-a-private/osecret.txt", "/team-a-private/secret.txt"} {
			put(t, other.S3, own, key, []byte("overwritten?"))
			if got := get(t, other.S3, own, key); string(got) != "overwritten?" {
				t.Fatalf("team-b's key %q read back %q", key, got)
			}
		}
		if got := get(t, a.S3, secret, "secret.txt"); string(got) != "top secret" {
			t.Fatalf("team-a's object is now %q", got)
		}
		list := must[*s3.ListObjectsV2Output](t)(a.S3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(secret)}))
		if len(list.Contents) != 1 {
			t.Fatalf("team-a's bucket holds %d objects", len(list.Contents))
		}
	})
}
