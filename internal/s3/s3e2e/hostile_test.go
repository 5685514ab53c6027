package s3e2e

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"

	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/logtest"
	"github.com/kumo-cloud/kumo/internal/metrics"
	kumos3 "github.com/kumo-cloud/kumo/internal/s3"
	"github.com/kumo-cloud/kumo/internal/s3/backend/disk"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// observed is an S3 server whose log and metrics a test reads.
type observed struct {
	*env
	log     *logtest.Buffer
	metrics *metrics.Registry
}

func startObserved(t *testing.T, ctl *controllertest.Server, idle time.Duration) *observed {
	t.Helper()
	be, err := disk.Open(filepath.Join(ctl.DataDir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	o := &observed{log: &logtest.Buffer{}, metrics: metrics.New()}
	srv, err := kumos3.NewServer(context.Background(), kumos3.Config{DB: ctl.DB, Identity: ctl.Identity, Backend: be,
		Region: controllertest.Region, Logger: slog.New(slog.NewTextHandler(o.log, nil)), Metrics: o.metrics, BodyIdleTimeout: idle})
	if err != nil {
		t.Fatal(err)
	}
	o.env = &env{ctl: ctl, server: srv, backend: be, URL: serve(t, srv)}
	return o
}

func (o *observed) metricLines(t *testing.T) []string {
	t.Helper()
	rec := &bytes.Buffer{}
	srv := serve(t, o.metrics.Handler())
	resp, err := http.Get(srv + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(rec, resp.Body)
	var out []string
	for _, l := range strings.Split(rec.String(), "\n") {
		if strings.HasPrefix(l, "kumo_api_") {
			out = append(out, l)
		}
	}
	return out
}

// stalledPut sends a signed PUT's headers and the first part of its body,
// then nothing, and returns the connection.
func stalledPut(t *testing.T, o *observed, u *user, bucket, key string, sent int) net.Conn {
	t.Helper()
	req := signedRequestHash(t, u.KeyID, u.Secret, "PUT", o.URL+"/"+bucket+"/"+key, nil, "UNSIGNED-PAYLOAD", time.Now())
	conn, err := net.Dial("tcp", strings.TrimPrefix(o.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var head bytes.Buffer
	fmt.Fprintf(&head, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.URL.RequestURI(), req.Host, 1<<20)
	for k, v := range req.Header {
		fmt.Fprintf(&head, "%s: %s\r\n", k, v[0])
	}
	head.WriteString("\r\n")
	head.Write(bytes.Repeat([]byte("p"), sent))
	if _, err := conn.Write(head.Bytes()); err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestStalledUploadTimesOut reproduces issue 11's probe: signed uploads
// whose body stops arriving were held open forever (500 of 500 after
// 40 s). Each now ends, once its body has been idle for the timeout, with
// 400 RequestTimeout as S3 answers, and stores nothing.
func TestStalledUploadTimesOut(t *testing.T) {
	ctl := controllertest.Start(t, storetest.Backends()[0])
	o := startObserved(t, ctl, time.Second)
	a := &user{Account: ctl.NewAccount(t, "team-a")}
	a.S3 = o.client(a.KeyID, a.Secret)
	bucket := mkBucket(t, a, "stall")
	const n = 50
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = stalledPut(t, o, a, bucket, fmt.Sprintf("key-%d", i), (i%3)*1000) // some send no body at all
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Errorf("upload %d: no answer: %v", i, err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusBadRequest || errorCode(body) != "RequestTimeout" ||
				!strings.Contains(string(body), "Your socket connection to the server was not read from or written to within the timeout period.") {
				t.Errorf("upload %d: HTTP %d %s, want 400 RequestTimeout", i, resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stalled uploads took %v to end with a 1 s idle timeout", d)
	}
	waitFor(t, "the timed-out uploads to be logged", func() bool { return len(o.log.Lines("code=RequestTimeout")) == n })
	for _, l := range o.log.Lines("op=PutObject") {
		if !strings.Contains(l, "level=INFO") || !strings.Contains(l, "status=400") {
			t.Errorf("a timed-out upload is not logged as 400 at INFO: %s", l)
		}
	}
	list := must[*s3.ListObjectsV2Output](t)(a.S3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket}))
	if len(list.Contents) != 0 {
		t.Errorf("stalled uploads stored %d objects", len(list.Contents))
	}
	// A slow body that keeps arriving is not cut off.
	slow := stalledPut(t, o, a, bucket, "slow", 0)
	for sent := 0; sent < 1<<20; sent += 256 << 10 {
		time.Sleep(600 * time.Millisecond)
		if _, err := slow.Write(bytes.Repeat([]byte("s"), 256<<10)); err != nil {
			t.Fatalf("slow upload cut off after %d bytes: %v", sent, err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(slow), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("slow but steady upload: %v %v", resp, err)
	}
}

// TestMadeUpSessionTokenS3: a signed request carrying a session token Kumo
// never issued was served as if it had none; S3 answers 400 InvalidToken.
func TestMadeUpSessionTokenS3(t *testing.T) {
	e := start(t, storetest.Backends()[0])
	a := e.account(t, "team-a")
	mkBucket(t, a, "tok")
	cfg := aws.Config{Region: controllertest.Region, RetryMaxAttempts: 1, HTTPClient: controllertest.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider(a.KeyID, a.Secret, "IQoJb3JpZ2luX2VjEMadeUp//////////token")}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(e.URL); o.UsePathStyle = true })
	_, err := c.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	wantCode(t, "ListBuckets with a made-up token", err, "InvalidToken")
	_, err = c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("tok"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantCode(t, "PutObject with a made-up token", err, "InvalidToken")
}

// TestGetClosedAfterHeaders: issue 11 saw 22 S3 GETs whose clients closed
// after the headers counted as 500 InternalError and logged at ERROR. A
// client that leaves is now status 499 ClientClosedRequest at INFO.
func TestGetClosedAfterHeaders(t *testing.T) {
	ctl := controllertest.Start(t, storetest.Backends()[0])
	o := startObserved(t, ctl, 0)
	a := &user{Account: ctl.NewAccount(t, "team-a")}
	a.S3 = o.client(a.KeyID, a.Secret)
	bucket := mkBucket(t, a, "leave")
	put(t, a.S3, bucket, "big", bytes.Repeat([]byte("b"), 48<<20))
	for i := 0; i < 3; i++ {
		req := signedRequestHash(t, a.KeyID, a.Secret, "GET", o.URL+"/"+bucket+"/big", nil, "UNSIGNED-PAYLOAD", time.Now())
		tr := &http.Transport{}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET: %v %v", resp, err)
		}
		resp.Body.Close() // after the headers, mid-body
		tr.CloseIdleConnections()
	}
	waitFor(t, "the abandoned GETs to be logged", func() bool { return len(o.log.Lines("status=499")) == 3 })
	for _, l := range o.log.Lines("op=GetObject") {
		if !strings.Contains(l, "level=INFO") {
			t.Errorf("abandoned GET not at INFO: %s", l)
		}
	}
	if n := len(o.log.Lines("level=ERROR")); n != 0 {
		t.Errorf("%d ERROR lines for abandoned GETs:\n%s", n, strings.Join(o.log.Lines("level=ERROR"), "\n"))
	}
	if !strings.Contains(strings.Join(o.metricLines(t), "\n"), `code="ClientClosedRequest",service="s3"`) {
		t.Errorf("abandoned GETs not counted as ClientClosedRequest:\n%s", strings.Join(o.metricLines(t), "\n"))
	}
}

// TestJunkDoesNotGrowS3Metrics: unsigned and badly signed requests to
// random paths with random methods and subresources leave the request
// metrics the same size.
func TestJunkDoesNotGrowS3Metrics(t *testing.T) {
	ctl := controllertest.Start(t, storetest.Backends()[0])
	o := startObserved(t, ctl, 0)
	junk := func(n int, seed uint64) {
		r := rand.New(rand.NewPCG(seed, 0))
		methods := []string{"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"}
		client := &http.Client{Timeout: 10 * time.Second}
		for i := 0; i < n; i++ {
			path := "/" + randomWord(r) + "/" + randomWord(r) + "?" + randomWord(r) + "=" + randomWord(r)
			req, _ := http.NewRequest(methods[r.IntN(len(methods))], o.URL+path, nil)
			if i%2 == 0 {
				req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIA"+strings.ToUpper(randomWord(r))+"/20260101/kumo-1/"+randomWord(r)+"/aws4_request, SignedHeaders=host, Signature=00")
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	junk(300, 1)
	before := o.metricLines(t)
	junk(3000, 2)
	after := o.metricLines(t)
	if len(after) != len(before) {
		t.Fatalf("3,000 junk requests grew the S3 request metrics from %d to %d lines", len(before), len(after))
	}
}

func randomWord(r *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 4+r.IntN(16))
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

// TestDatabaseOutageS3 locks kumo.db as another process would: bucket
// creation, which writes the registry, gets 503 ServiceUnavailable (SDKs
// retry it) instead of 500, and the log holds a few lines, not one each.
func TestDatabaseOutageS3(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the 10 s busy timeout")
	}
	ctl := controllertest.Start(t, storetest.Backends()[0])
	o := startObserved(t, ctl, 0)
	a := &user{Account: ctl.NewAccount(t, "team-a")}
	a.S3 = o.client(a.KeyID, a.Secret)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(ctl.DataDir, "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = conn.ExecContext(context.Background(), "ROLLBACK") }()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := a.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(fmt.Sprintf("outage-%d", i))})
			wantCodeErr(t, err, "ServiceUnavailable")
		}()
	}
	wg.Wait()
	if n := len(o.log.Lines("level=ERROR")); n == 0 || n > 3 {
		t.Errorf("20 failed requests wrote %d ERROR lines, want 1-3", n)
	}
}

func wantCodeErr(t *testing.T, err error, want string) {
	t.Helper()
	if got := code(err); got != want {
		t.Errorf("got %q (%v), want %s", got, err, want)
	}
}
