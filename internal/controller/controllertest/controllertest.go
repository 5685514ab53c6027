// Package controllertest starts a real Kumo controller on a temporary
// directory for tests (on SQLite or PostgreSQL) and gives AWS SDK clients
// signed with a fresh account's credentials.
package controllertest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kumo-cloud/kumo/internal/admin"
	"github.com/kumo-cloud/kumo/internal/controller"
	kumoec2 "github.com/kumo-cloud/kumo/internal/ec2"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// testLogger discards the server's logs unless KUMO_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("KUMO_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Region is the region test servers present.
const Region = "kumo-1"

// PublicIPs is the elastic IP pool of test servers: 192.0.2.1 to 192.0.2.6.
const PublicIPs = "192.0.2.0/29"

// Server is a running controller.
type Server struct {
	*controller.Controller
	Endpoint   string // http://127.0.0.1:PORT of the EC2/IAM/STS API
	S3Endpoint string // http://127.0.0.1:PORT of the S3 API
	Admin      *admin.Client
	DataDir    string
}

// Start runs a controller on b with a fresh data dir; it stops with the test.
func Start(t testing.TB, b storetest.Backend) *Server {
	t.Helper()
	opts := b.Options(t)
	return StartIn(t, opts.DataDir, opts.DSN)
}

// StartAPIOnly runs a controller whose background workers stay stopped, so
// a test sees what the API alone records (an import task stays active).
func StartAPIOnly(t testing.TB, b storetest.Backend) *Server {
	t.Helper()
	opts := b.Options(t)
	return start(t, opts.DataDir, opts.DSN, true)
}

// StartIn runs a controller on an existing data dir and database (empty
// dsn: SQLite in the data dir), e.g. to test a restart.
func StartIn(t testing.TB, dataDir, dsn string) *Server {
	t.Helper()
	return start(t, dataDir, dsn, false)
}

func start(t testing.TB, dataDir, dsn string, noWorkers bool) *Server {
	t.Helper()
	pool, err := kumoec2.ParseAddressPool(PublicIPs)
	if err != nil {
		t.Fatal(err)
	}
	cfg := controller.Config{NoWorkers: noWorkers, PublicIPs: pool,
		DataDir: dataDir, Database: dsn, EC2Listen: "127.0.0.1:0", AdminListen: "127.0.0.1:0", S3Listen: "127.0.0.1:0",
		Region: Region, Zones: []string{Region + "a", Region + "b", Region + "c"},
		Logger: testLogger(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := controller.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start controller in %s: %v", dataDir, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	return &Server{Controller: c, Endpoint: "http://" + c.EC2Addr.String(), S3Endpoint: "http://" + c.S3Addr.String(),
		Admin: admin.NewClient(c.Admin), DataDir: cfg.DataDir}
}

// Account is a team account with SDK clients signed by its root key.
type Account struct {
	ID        string
	KeyID     string
	Secret    string
	EC2       *ec2.Client
	IAM       *iam.Client
	STS       *sts.Client
	AWSConfig aws.Config
}

// NewAccount creates an account through the admin API.
func (s *Server) NewAccount(t testing.TB, name string) *Account {
	t.Helper()
	a, err := s.Admin.CreateAccount(context.Background(), name)
	if err != nil {
		t.Fatalf("create account %s: %v", name, err)
	}
	acct := s.Clients(a.AccessKeyId, a.SecretAccessKey)
	acct.ID = a.AccountId
	return acct
}

// Clients makes SDK clients signed with the given key.
func (s *Server) Clients(keyID, secret string) *Account {
	cfg := aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       newHTTPClient(),
		BaseEndpoint:     aws.String(s.Endpoint),
	}
	return &Account{
		KeyID: keyID, Secret: secret, AWSConfig: cfg,
		EC2: ec2.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg), STS: sts.NewFromConfig(cfg),
	}
}

// newHTTPClient gives each test client a transport of its own (a shared
// one could reuse a keep-alive connection to an earlier test server on the
// same port) and hands the transport a plain in-memory copy of each request
// body: the SDK's own body reader races with net/http's write loop when a
// server answers as fast as a local one does, and the write loop then
// closes the connection under the response being read
// (aws/aws-sdk-go-v2#2737).
func newHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{Transport: bufferedBody{tr}}
}

type bufferedBody struct{ next http.RoundTripper }

func (b bufferedBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return b.next.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r2.ContentLength = int64(len(body))
	return b.next.RoundTrip(r2)
}
