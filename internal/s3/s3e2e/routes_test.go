package s3e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	kumos3 "github.com/kumo-cloud/kumo/internal/s3"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// opLog records the operation each S3 request was routed to, by request
// id, from the server's "s3 request" log lines.
type opLog struct {
	mu  sync.Mutex
	ops map[string]string
}

func (l *opLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *opLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *opLog) WithGroup(string) slog.Handler            { return l }

func (l *opLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "s3 request" {
		return nil
	}
	var id, op string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "request_id":
			id = a.Value.String()
		case "op":
			op = a.Value.String()
		}
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops[id] = op
	return nil
}

// opOf waits for the log line of request id (it is written after the
// response) and returns its operation.
func (l *opLog) opOf(t testing.TB, id string) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		l.mu.Lock()
		op, ok := l.ops[id]
		l.mu.Unlock()
		if ok {
			return op
		}
	}
	t.Fatalf("request %s was never logged", id)
	return ""
}

// startLogged runs a controller and an S3 server whose request log is
// recorded.
func startLogged(t *testing.T, b storetest.Backend) (*env, *opLog) {
	t.Helper()
	e := start(t, b)
	log := &opLog{ops: map[string]string{}}
	srv, err := kumos3.NewServer(context.Background(), kumos3.Config{DB: e.ctl.DB, Identity: e.ctl.Identity,
		Backend: e.backend, Region: controllertest.Region, Logger: slog.New(log)})
	if err != nil {
		t.Fatal(err)
	}
	e.server, e.URL = srv, serve(t, srv)
	return e, log
}

// state is what a caller can see of its buckets: each bucket's objects
// and the SHA-256 of their content.
func state(t testing.TB, u *user) string {
	t.Helper()
	ctx := context.Background()
	buckets := must[*s3.ListBucketsOutput](t)(u.S3.ListBuckets(ctx, &s3.ListBucketsInput{}))
	var lines []string
	for _, b := range buckets.Buckets {
		lines = append(lines, "bucket "+aws.ToString(b.Name))
		objs := must[*s3.ListObjectsV2Output](t)(u.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b.Name}))
		for _, o := range objs.Contents {
			sum := sha256.Sum256(get(t, u.S3, aws.ToString(b.Name), aws.ToString(o.Key)))
			lines = append(lines, fmt.Sprintf("  %s %d %s", aws.ToString(o.Key), aws.ToInt64(o.Size), hex.EncodeToString(sum[:8])))
		}
		ups := must[*s3.ListMultipartUploadsOutput](t)(u.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: b.Name}))
		lines = append(lines, fmt.Sprintf("  %d uploads", len(ups.Uploads)))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// routeFixture is the state every model operation is sent against: an
// empty bucket, a bucket with objects and an open multipart upload.
type routeFixture struct {
	empty, full, uploadID string
}

func (f *routeFixture) reset(t testing.TB, u *user) {
	t.Helper()
	ctx := context.Background()
	listed := must[*s3.ListBucketsOutput](t)(u.S3.ListBuckets(ctx, &s3.ListBucketsInput{}))
	for _, b := range listed.Buckets {
		if name := aws.ToString(b.Name); name != f.empty && name != f.full {
			emptyBucket(t, u, name)
			must[*s3.DeleteBucketOutput](t)(u.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b.Name}))
		}
	}
	for _, b := range []string{f.empty, f.full} {
		if _, err := u.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)}); err != nil {
			mkBucket(t, u, b)
		}
		emptyBucket(t, u, b)
	}
	put(t, u.S3, f.full, "k", []byte("the object's data"))
	put(t, u.S3, f.full, "src", []byte("a copy source"))
	ups := must[*s3.ListMultipartUploadsOutput](t)(u.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(f.full)}))
	if len(ups.Uploads) == 0 {
		up := must[*s3.CreateMultipartUploadOutput](t)(u.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(f.full), Key: aws.String("k")}))
		f.uploadID = aws.ToString(up.UploadId)
	}
}

// emptyBucket deletes a bucket's objects and its uploads but the one
// the fixture keeps.
func emptyBucket(t testing.TB, u *user, bucket string) {
	t.Helper()
	ctx := context.Background()
	objs := must[*s3.ListObjectsV2Output](t)(u.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}))
	for _, o := range objs.Contents {
		must[*s3.DeleteObjectOutput](t)(u.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key}))
	}
}

// modelRequest builds the request a client sends for operation o against
// bucket and key: its method, path, subresources, the x-id the v2 SDK
// adds, required parameters and headers, and a small XML body, signed.
func modelRequest(t testing.TB, u *user, base string, o kumos3.Operation, bucket, key, uploadID string) *http.Request {
	t.Helper()
	query := slices.Clone(o.Query)
	if o.XID != "" {
		query = append(query, "x-id="+o.XID)
	}
	values := map[string]string{"uploadId": uploadID, "partNumber": "1", "id": "config-1"}
	for _, k := range o.RequiredQuery {
		query = append(query, k+"="+url.QueryEscape(values[k]))
	}
	target := base + strings.NewReplacer("{Bucket}", bucket, "{Key+}", key).Replace(o.Path)
	if len(query) > 0 {
		target += "?" + strings.Join(query, "&")
	}
	var body []byte
	if o.Method == http.MethodPut || o.Method == http.MethodPost {
		body = []byte(`<?xml version="1.0" encoding="UTF-8"?><Data>replaced</Data>`)
	}
	headers := map[string]string{"x-amz-copy-source": "/" + bucket + "/src", "x-amz-object-attributes": "ETag",
		"x-amz-request-route": "route", "x-amz-request-token": "token"}
	h := http.Header{}
	for _, name := range o.RequiredHeaders {
		h.Set(name, headers[name])
	}
	return signedRequestHeaders(t, u, o.Method, target, body, h)
}

// signedRequestHeaders signs a request with extra headers, as the SDK
// does (the headers are signed too).
func signedRequestHeaders(t testing.TB, u *user, method, target string, body []byte, h http.Header) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", payload)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: u.KeyID, SecretAccessKey: u.Secret}
	if err := signer.SignHTTP(context.Background(), creds, req, payload, "s3", controllertest.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// send sends a request and returns the status, S3 error code, body and
// request id.
func send(t testing.TB, req *http.Request) (int, string, []byte, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	code := errorCode(body)
	if code == "" {
		code = resp.Header.Get("x-amz-error-code")
	}
	return resp.StatusCode, code, body, resp.Header.Get("x-amz-request-id")
}

// TestEveryModelOperation sends every operation of AWS's S3 model, as a
// client does, signed, to a bucket that exists and is empty, one that does
// not exist, an object that exists and one that does not. Each request
// reaches the handler of that very operation, or answers 501
// NotImplemented naming it with every bucket, object and upload unchanged.
func TestEveryModelOperation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		e, log := startLogged(t, b)
		u := e.account(t, "routes")
		f := &routeFixture{empty: "routes-empty", full: "routes-full"}
		ops := kumos3.Operations()
		if len(ops) < 116 {
			t.Fatalf("%d operations in the model, want at least 116", len(ops))
		}
		implemented := 0
		for _, o := range ops {
			if o.Implemented {
				implemented++
			}
			for _, target := range routeTargets(o, f) {
				f.reset(t, u)
				before := state(t, u)
				req := modelRequest(t, u, e.URL, o, target[0], target[1], f.uploadID)
				what := fmt.Sprintf("%s (%s %s)", o.Name, req.Method, req.URL.RequestURI())
				status, code, body, id := send(t, req)
				if got := log.opOf(t, id); got != o.ServedAs {
					t.Errorf("%s ran %q, want %s", what, got, o.ServedAs)
				}
				want := o.ServedAs + " is not implemented by Kumo."
				if o.Implemented {
					// Its handler ran (the log says so); it may still refuse
					// what the request asks, e.g. an ACL document.
					if strings.Contains(string(body), want) {
						t.Errorf("%s: %d %s for an implemented operation", what, status, body)
					}
					continue
				}
				if status != http.StatusNotImplemented || code != "NotImplemented" || !strings.Contains(string(body), want) {
					t.Errorf("%s: %d %s %s, want 501 NotImplemented %q", what, status, code, body, want)
				}
				if after := state(t, u); after != before {
					t.Errorf("%s changed the buckets:\nbefore:\n%s\nafter:\n%s", what, before, after)
				}
			}
		}
		t.Logf("%d operations of %s sent: %d implemented, %d refused", len(ops), kumos3.ModelSources(), implemented, len(ops)-implemented)
	})
}

// routeTargets are the buckets and keys operation o is sent to.
func routeTargets(o kumos3.Operation, f *routeFixture) [][2]string {
	switch {
	case strings.Contains(o.Path, "{Key+}"):
		return [][2]string{{f.full, "k"}, {f.full, "new-key"}}
	case strings.Contains(o.Path, "{Bucket}"):
		return [][2]string{{f.empty, ""}, {"routes-missing", ""}}
	}
	return [][2]string{{"", ""}}
}

func TestRouteTargetsCoverEveryLevel(t *testing.T) {
	levels := map[string]bool{}
	for _, o := range kumos3.Operations() {
		levels[o.Path] = true
	}
	for _, want := range []string{"/", "/{Bucket}", "/{Bucket}/{Key+}", "/WriteGetObjectResponse"} {
		if !levels[want] {
			t.Errorf("no operation on %s", want)
		}
	}
	if !slices.ContainsFunc(kumos3.Operations(), func(o kumos3.Operation) bool { return o.Name == "CreateSession" }) {
		t.Error("CreateSession is not in the model")
	}
}
