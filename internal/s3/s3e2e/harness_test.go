// Package s3e2e tests the S3 API end to end: a real controller (store,
// identities), the S3 server on a loopback port, and the AWS SDK and CLI
// as clients.
package s3e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	kumos3 "github.com/kumo-cloud/kumo/internal/s3"
	"github.com/kumo-cloud/kumo/internal/s3/backend"
	"github.com/kumo-cloud/kumo/internal/s3/backend/disk"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// env is a controller with an S3 server in front of its store.
type env struct {
	ctl     *controllertest.Server
	server  *kumos3.Server
	backend backend.Backend
	URL     string // http://127.0.0.1:PORT
}

func testLogger() *slog.Logger {
	if os.Getenv("KUMO_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// start runs a controller on b and an S3 server on the local disk
// backend in its data dir.
func start(t testing.TB, b storetest.Backend) *env {
	t.Helper()
	ctl := controllertest.Start(t, b)
	be, err := disk.Open(filepath.Join(ctl.DataDir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	return startWith(t, ctl, be)
}

// startWith runs an S3 server for ctl on a given backend.
func startWith(t testing.TB, ctl *controllertest.Server, be backend.Backend) *env {
	t.Helper()
	srv, err := kumos3.NewServer(context.Background(), kumos3.Config{DB: ctl.DB, Identity: ctl.Identity, Backend: be,
		Region: controllertest.Region, Logger: testLogger(), Authorizer: ctl.Authorizer})
	if err != nil {
		t.Fatal(err)
	}
	return &env{ctl: ctl, server: srv, backend: be, URL: serve(t, srv)}
}

// serve runs h on a loopback port until the test ends.
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()
}

// user is an account with an S3 client signed by its root key.
type user struct {
	*controllertest.Account
	S3 *s3.Client
}

// account makes a team account and its S3 client.
func (e *env) account(t testing.TB, name string) *user {
	t.Helper()
	a := e.ctl.NewAccount(t, name)
	return &user{Account: a, S3: e.client(a.KeyID, a.Secret)}
}

// client makes an S3 client for the server, path-style, without retries.
func (e *env) client(keyID, secret string) *s3.Client {
	return newClient(e.URL, keyID, secret, http.DefaultTransport.(*http.Transport).Clone())
}

func newClient(endpoint, keyID, secret string, rt http.RoundTripper, opts ...func(*s3.Options)) *s3.Client {
	cfg := aws.Config{
		Region:           controllertest.Region,
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: rt},
	}
	return s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	}}, opts...)...)
}

// code returns the S3 error code of an SDK error ("" for nil).
func code(err error) string {
	if err == nil {
		return ""
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return "not an API error: " + err.Error()
}

func wantCode(t testing.TB, what string, err error, want string) {
	t.Helper()
	if got := code(err); got != want {
		t.Fatalf("%s: got error %q (%v), want %s", what, got, err, want)
	}
}

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// mkBucket creates a bucket and fails the test on error.
func mkBucket(t testing.TB, u *user, name string) string {
	t.Helper()
	if _, err := u.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}

func put(t testing.TB, c *s3.Client, bucket, key string, data []byte) *s3.PutObjectOutput {
	t.Helper()
	out, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return out
}

func get(t testing.TB, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
