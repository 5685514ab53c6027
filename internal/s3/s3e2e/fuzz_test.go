package s3e2e

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// FuzzRequest throws arbitrary methods, paths, queries, headers and
// bodies at the S3 handler, unsigned or signed with a real key: it must
// never panic and never answer 5xx.
func FuzzRequest(f *testing.F) {
	e := start(f, storetest.Backends()[0])
	a := e.account(f, "fuzz")
	mkBucket(f, a, "fuzz-bucket")
	put(f, a.S3, "fuzz-bucket", "k", []byte("v"))
	seeds := []struct {
		method, path, query, headers string
		body                         []byte
		signed                       bool
	}{
		{"GET", "/", "", "", nil, true},
		{"GET", "/fuzz-bucket", "list-type=2&prefix=a&delimiter=/&max-keys=1&encoding-type=url", "", nil, true},
		{"GET", "/fuzz-bucket", "marker=%ff&max-keys=-1", "", nil, false},
		{"PUT", "/fuzz-bucket/k2", "", "Content-Md5: xx\nX-Amz-Meta-A: b", []byte("data"), true},
		{"PUT", "/fuzz-bucket/k3", "partNumber=0&uploadId=zz", "", []byte("data"), true},
		{"PUT", "/fuzz-bucket/k4", "", "X-Amz-Copy-Source: /fuzz-bucket/k\nX-Amz-Metadata-Directive: BAD", nil, true},
		{"PUT", "/fuzz-bucket/k5", "", "X-Amz-Content-Sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\nX-Amz-Decoded-Content-Length: 3\nX-Amz-Trailer: x-amz-checksum-crc32",
			[]byte("3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"), true},
		{"POST", "/fuzz-bucket", "delete", "", []byte("<Delete><Object><Key>k</Key></Object></Delete>"), true},
		{"POST", "/fuzz-bucket/k", "uploadId=x", "", []byte("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>"), true},
		{"PUT", "/fuzz-bucket", "policy", "", []byte(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::fuzz-bucket/*"}]}`), true},
		{"GET", "/fuzz-bucket/k", "", "Range: bytes=-0\nIf-Modified-Since: x", nil, true},
		{"DELETE", "/fuzz-bucket/..%2f..", "uploadId=../../x", "", nil, true},
		{"PATCH", "/a/b/c", "acl&policy&uploads", "Authorization: AWS4-HMAC-SHA256 Credential=x", nil, false},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.headers, s.body, s.signed)
	}
	f.Fuzz(func(t *testing.T, method, path, query, headers string, body []byte, signed bool) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n?#") || strings.ContainsAny(query, " \r\n#") {
			return
		}
		var req *http.Request
		url := "http://s3.test" + path
		if query != "" {
			url += "?" + query
		}
		if _, err := neturl.Parse(url); err != nil {
			return
		}
		if signed {
			req = signedRequest(t, a, http.MethodGet, url, body)
			req.Method = method
		} else {
			var err error
			if req, err = http.NewRequest(http.MethodGet, url, bytes.NewReader(body)); err != nil {
				return
			}
			req.Method = method
		}
		for _, line := range strings.Split(headers, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k != "" && !strings.ContainsAny(k, " \r\t") {
				req.Header.Add(k, strings.TrimSpace(v))
			}
		}
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer func() {
				if p := recover(); p != nil && p != http.ErrAbortHandler {
					t.Errorf("panic on %s %s?%s: %v", method, path, query, p)
				}
			}()
			e.server.ServeHTTP(rec, req)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s %s?%s hangs", method, path, query)
		}
		// 501 NotImplemented is the router's answer for an operation or
		// subresource Kumo does not serve (nothing ran); any other 5xx is a bug.
		if rec.Code == http.StatusNotImplemented && strings.Contains(rec.Body.String(), "<Code>NotImplemented</Code>") {
			return
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s %q: %d %s", method, path, query, headers, rec.Code, rec.Body.String())
		}
	})
}
