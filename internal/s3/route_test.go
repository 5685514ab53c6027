package s3

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/store"
)

func storeBucket(name, account, acl, policy string) store.Bucket {
	return store.Bucket{Name: name, AccountID: account, ACL: acl, Policy: policy, CreatedAt: time.Now()}
}

func TestParseRoute(t *testing.T) {
	for _, tc := range []struct {
		method, target     string
		header             string
		op                 op
		bucket, key, error string
	}{
		{"GET", "/", "", opListBuckets, "", "", ""},
		{"PUT", "/", "", "", "", "", "MethodNotAllowed"},
		{"PUT", "/b", "", opCreateBucket, "b", "", ""},
		{"GET", "/b/", "", opListObjects, "b", "", ""},
		{"GET", "/b?list-type=2", "", opListObjectsV2, "b", "", ""},
		{"GET", "/b?uploads", "", opListMultipartUploads, "b", "", ""},
		{"GET", "/b?cors", "", "", "b", "", "NotImplemented"},
		{"POST", "/b?delete", "", opDeleteObjects, "b", "", ""},
		{"POST", "/b", "", "", "b", "", "MethodNotAllowed"},
		{"PUT", "/b/k?x-id=PutObject", "", opPutObject, "b", "k", ""},
		{"PUT", "/b/k", "X-Amz-Copy-Source", opCopyObject, "b", "k", ""},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "", opUploadPart, "b", "k", ""},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "X-Amz-Copy-Source", opUploadPartCopy, "b", "k", ""},
		{"POST", "/b/k?uploads", "", opCreateMultipartUpload, "b", "k", ""},
		{"POST", "/b/k?uploadId=u", "", opCompleteMultipartUpload, "b", "k", ""},
		{"DELETE", "/b/k?uploadId=u", "", opAbortMultipartUpload, "b", "k", ""},
		{"GET", "/b/k?tagging", "", "", "b", "k", "NotImplemented"},
		{"GET", "/b/../k", "", opGetObject, "b", "../k", ""},
		{"GET", "/b/a%2F..%2Fk", "", opGetObject, "b", "a/../k", ""},
		{"GET", "/b//k", "", opGetObject, "b", "/k", ""},
		{"GET", "//k", "", "", "", "k", "InvalidBucketName"},
		{"PATCH", "/b/k", "", "", "b", "k", "MethodNotAllowed"},
		{"GET", "/b?a=%zz", "", "", "", "", "InvalidArgument"},
	} {
		r := httptest.NewRequest(tc.method, "http://s3.test"+tc.target, nil)
		if tc.header != "" {
			r.Header.Set(tc.header, "src/key")
		}
		rt, err := parseRoute(r)
		gotErr := ""
		if err != nil {
			gotErr = err.Name()
		}
		if gotErr != tc.error || (err == nil && (rt.op != tc.op || rt.bucket != tc.bucket || rt.key != tc.key)) {
			t.Errorf("%s %s: %+v %q, want %s %q %q %q", tc.method, tc.target, rt, gotErr, tc.op, tc.bucket, tc.key, tc.error)
		}
	}
}

func TestBucketNames(t *testing.T) {
	for _, ok := range []string{"abc", "team-a-images", "a.b.c", "123", "a-1.b-2"} {
		if err := checkBucketName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "ab", "Abc", "a_b", "-ab", "ab-", "a..b", "10.0.0.1", "xn--abc", "abc-s3alias", "a/b", "a b"} {
		if checkBucketName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseRange(t *testing.T) {
	for v, want := range map[string]string{
		"bytes=0-9": "{0 9 0}", "bytes=5-": "{5 -1 0}", "bytes=-3": "{0 0 3}", "bytes=0-1,4-5": "<nil>",
		"bytes=9-2": "<nil>", "items=0-1": "<nil>", "bytes=-0": "<nil>", "bytes=x-": "<nil>",
	} {
		got := "<nil>"
		if r := parseRange(v); r != nil {
			got = fmtRange(*r)
		}
		if got != want {
			t.Errorf("parseRange(%q) = %s, want %s", v, got, want)
		}
	}
}
