package s3

import (
	"net/http/httptest"
	"strings"
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
		{"GET", "/b?cors", "", opGetBucketCors, "b", "", ""},
		{"PUT", "/b?cors", "", "", "b", "", "NotImplemented"},
		{"GET", "/b?tagging", "", opGetBucketTagging, "b", "", ""},
		{"POST", "/b?delete", "", opDeleteObjects, "b", "", ""},
		{"POST", "/b", "", "", "b", "", "MethodNotAllowed"},
		{"PUT", "/b/k?x-id=PutObject", "", opPutObject, "b", "k", ""},
		{"PUT", "/b/k", "X-Amz-Copy-Source", opCopyObject, "b", "k", ""},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "", opUploadPart, "b", "k", ""},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "X-Amz-Copy-Source", opUploadPartCopy, "b", "k", ""},
		{"POST", "/b/k?uploads", "", opCreateMultipartUpload, "b", "k", ""},
		{"POST", "/b/k?uploadId=u", "", opCompleteMultipartUpload, "b", "k", ""},
		{"DELETE", "/b/k?uploadId=u", "", opAbortMultipartUpload, "b", "k", ""},
		{"GET", "/b/k?tagging", "", opGetObjectTagging, "b", "k", ""},
		{"GET", "/b/k?retention", "", "", "b", "k", "NotImplemented"},
		{"GET", "/b/../k", "", opGetObject, "b", "../k", ""},
		{"GET", "/b/a%2F..%2Fk", "", opGetObject, "b", "a/../k", ""},
		{"GET", "/b//k", "", opGetObject, "b", "/k", ""},
		{"GET", "//k", "", "", "", "k", "InvalidBucketName"},
		{"PATCH", "/b/k", "", "", "b", "k", "MethodNotAllowed"},
		{"GET", "/b?a=%zz", "", "", "", "", "InvalidArgument"},
		{"GET", "/?x-id=ListBuckets", "", opListBuckets, "", "", ""},
		{"GET", "/b?list-type=2&prefix=a&x-id=ListObjectsV2", "", opListObjectsV2, "b", "", ""},
		{"GET", "/b/k?partNumber=2&versionId=null", "", opGetObject, "b", "k", ""},
		{"GET", "/b/k?uploadId=u&x-id=ListParts", "", opListParts, "b", "k", ""},
		{"PUT", "/b/k?partNumber=1&uploadId=u&x-id=UploadPartCopy", "X-Amz-Copy-Source", opUploadPartCopy, "b", "k", ""},
		{"PUT", "/b/k?uploadId=u", "", "", "b", "k", "InvalidArgument"},
		{"PUT", "/b/k?x-id=PutObject", "X-Amz-Copy-Source", "", "b", "k", "InvalidRequest"},
		{"GET", "/b/k?uploads", "", "", "b", "k", "MethodNotAllowed"},
		{"DELETE", "/b?delete", "", "", "b", "", "MethodNotAllowed"},
		{"HEAD", "/b?acl", "", "", "b", "", "MethodNotAllowed"},
		{"DELETE", "/b/k?acl", "", "", "b", "k", "MethodNotAllowed"},
		{"DELETE", "/b?versioning", "", "", "b", "", "MethodNotAllowed"},
		{"DELETE", "/b?uploads", "", "", "b", "", "MethodNotAllowed"},
		{"DELETE", "/b?location", "", "", "b", "", "MethodNotAllowed"},
		{"PUT", "/b?list-type=2", "", "", "b", "", "MethodNotAllowed"},
		{"GET", "/b?versioning&uploads", "", "", "b", "", "NotImplemented"},
		{"GET", "/b?list-type=1", "", "", "b", "", "NotImplemented"},
		{"GET", "/?versioning", "", "", "", "", "NotImplemented"},
		{"PUT", "/b/k?someFutureSubresource", "", "", "b", "k", "NotImplemented"},
		{"PUT", "/b/k?unknown-param=1", "", opPutObject, "b", "k", ""},
		{"GET", "/b?prefix=&delimiter=&X-Amz-Security-Token=", "", opListObjects, "b", "", ""},
		{"POST", "/WriteGetObjectResponse", "", "", "WriteGetObjectResponse", "", "NotImplemented"},
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

// TestRouteNamesUnimplemented reproduces issue 11's requests that ran
// another operation: each is refused as NotImplemented naming the
// operation asked.
func TestRouteNamesUnimplemented(t *testing.T) {
	for target, want := range map[string]string{
		"PUT /b/k?encryption":                          "UpdateObjectEncryption",
		"DELETE /b?metadataConfiguration":              "DeleteBucketMetadataConfiguration",
		"PUT /b?versioning":                            "PutBucketVersioning",
		"PUT /b?abac":                                  "PutBucketAbac",
		"GET /b?abac":                                  "GetBucketAbac",
		"GET /b?metadataConfiguration":                 "GetBucketMetadataConfiguration",
		"GET /b?session":                               "CreateSession",
		"GET /?x-id=ListDirectoryBuckets":              "ListDirectoryBuckets",
		"GET /b?analytics":                             "ListBucketAnalyticsConfigurations",
		"GET /b?analytics&id=a":                        "GetBucketAnalyticsConfiguration",
		"PUT /b?lifecycle":                             "PutBucketLifecycleConfiguration",
		"GET /b/k?annotation&x-id=GetObjectAnnotation": "GetObjectAnnotation",
		"PUT /b/k?renameObject":                        "RenameObject",
		"POST /b/k?select&select-type=2":               "SelectObjectContent",
		"GET /b/k?legal-hold":                          "GetObjectLegalHold",
	} {
		method, target, _ := strings.Cut(target, " ")
		r := httptest.NewRequest(method, "http://s3.test"+target, nil)
		_, err := parseRoute(r)
		if err == nil || err.Name() != "NotImplemented" {
			t.Errorf("%s %s: %v, want NotImplemented", method, target, err)
			continue
		}
		if msg := err.message(); want != "" && msg != want+" is not implemented by Kumo." {
			t.Errorf("%s %s: message %q, want it to name %s", method, target, msg, want)
		}
	}
}

// TestImplementedOperationsAreInTheModel keeps the handlers' names and
// the generated route table in step.
func TestImplementedOperationsAreInTheModel(t *testing.T) {
	implemented := 0
	for _, o := range Operations() {
		if o.Implemented {
			implemented++
		}
	}
	for _, o := range []op{opListBuckets, opCreateBucket, opHeadBucket, opDeleteBucket, opGetBucketLocation,
		opGetBucketVersioning, opGetBucketPolicy, opPutBucketPolicy, opDeleteBucketPolicy, opGetBucketACL,
		opPutBucketACL, opListObjects, opListObjectsV2, opListMultipartUploads, opDeleteObjects, opPutObject,
		opCopyObject, opGetObject, opHeadObject, opDeleteObject, opGetObjectACL, opPutObjectACL,
		opCreateMultipartUpload, opUploadPart, opUploadPartCopy, opCompleteMultipartUpload,
		opAbortMultipartUpload, opListParts, opGetBucketTagging, opPutBucketTagging, opDeleteBucketTagging,
		opGetObjectTagging, opPutObjectTagging, opDeleteObjectTagging, opGetBucketCors, opGetBucketWebsite,
		opGetBucketAccelerate, opGetBucketRequestPayment, opGetBucketLogging, opGetBucketLifecycle,
		opGetBucketReplication, opGetBucketEncryption, opGetObjectLockConfig, opGetBucketOwnership,
		opGetPublicAccessBlock, opGetObjectAttributes} {
		if !isModelOperation(string(o)) {
			t.Errorf("%s is not an operation of the S3 model", o)
		}
		if _, ok := o.lookup(); !ok {
			t.Errorf("%s has no spec", o)
		}
	}
	// 46 operations and GetBucketLifecycle, the deprecated name of
	// GetBucketLifecycleConfiguration's requests.
	if implemented != 47 {
		t.Errorf("%d operations implemented, want 47", implemented)
	}
}
