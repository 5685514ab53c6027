package apiserver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kumo-cloud/kumo/internal/apiserver"
	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/stsapi"
	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	kumoec2 "github.com/kumo-cloud/kumo/internal/ec2"
	kumoiam "github.com/kumo-cloud/kumo/internal/iam"
	"github.com/kumo-cloud/kumo/internal/logtest"
	"github.com/kumo-cloud/kumo/internal/metrics"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
	kumosts "github.com/kumo-cloud/kumo/internal/sts"
)

// api is the Query API of a real controller's store and identities, served
// by a server whose log and metrics the test reads.
type api struct {
	ctl      *controllertest.Server
	endpoint string
	log      *logtest.Buffer
	metrics  *metrics.Registry
}

func startAPI(t *testing.T, ctl *controllertest.Server) *api {
	t.Helper()
	a := &api{ctl: ctl, log: &logtest.Buffer{}, metrics: metrics.New()}
	ec2svc := kumoec2.New(ctl.DB, kumoec2.Config{Region: controllertest.Region, Zones: []string{controllertest.Region + "a"}})
	srv := &apiserver.Server{Identity: ctl.Identity, Logger: slog.New(slog.NewTextHandler(a.log, nil)), Metrics: a.metrics,
		Region: controllertest.Region, Services: map[string]apiserver.Service{
			"ec2": {Model: ec2api.Model(), Impl: ec2svc},
			"iam": {Model: iamapi.Model(), Impl: &kumoiam.Service{Identity: ctl.Identity}},
			"sts": {Model: stsapi.Model(), Impl: &kumosts.Service{DB: ctl.DB, Box: ctl.Identity.Box, IAM: &kumoiam.Service{Identity: ctl.Identity}}},
		}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
	})
	a.endpoint = "http://" + ln.Addr().String()
	return a
}

func (a *api) ec2(keyID, secret, token string) *ec2.Client {
	return ec2.NewFromConfig(a.config(keyID, secret, token))
}

func (a *api) config(keyID, secret, token string) aws.Config {
	return aws.Config{Region: controllertest.Region, RetryMaxAttempts: 1, HTTPClient: controllertest.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, token), BaseEndpoint: aws.String(a.endpoint)}
}

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	if err == nil {
		return ""
	}
	return "not an API error: " + err.Error()
}

func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func randomName(r *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 8+r.IntN(24))
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

// metricLines returns the request-metric sample lines of an exposition.
func metricLines(t *testing.T, reg *metrics.Registry) []string {
	t.Helper()
	srv := &http.Server{Handler: reg.Handler()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	return scrape(t, "http://"+ln.Addr().String()+"/metrics")
}

// scrape fetches a /metrics page and returns its kumo_api_ sample lines.
func scrape(t *testing.T, url string) []string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "kumo_api_") {
			out = append(out, l)
		}
	}
	return out
}

// sendJunk sends n unsigned or badly signed requests naming random actions
// and random credential-scope services, as a scanner on the network would.
func sendJunk(t *testing.T, endpoint string, n int, seed uint64) {
	t.Helper()
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := w; i < n; i += 8 {
				body := "Action=" + randomName(r) + "&Version=2016-11-15"
				req, _ := http.NewRequest(http.MethodPost, endpoint+"/"+randomName(r)+"/"+randomName(r)+"?"+randomName(r), strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if i%2 == 0 {
					req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=AKIA%s/20260101/kumo-1/%s/aws4_request, SignedHeaders=host;x-amz-date, Signature=%064d",
						strings.ToUpper(randomName(r)), strings.ToLower(randomName(r)), 0))
					req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}(w)
	}
	wg.Wait()
}

// TestUnsignedJunkDoesNotGrowMetrics reproduces issue 11's measurement:
// unsigned requests with made-up actions and made-up credential-scope
// services each made new metric series (40,000 series from 2,000 curls).
// Now only known services and, after authentication, known actions are
// labels: the exposition stays the same size however much junk arrives.
func TestUnsignedJunkDoesNotGrowMetrics(t *testing.T) {
	ctl := controllertest.Start(t, storetest.Backends()[0])
	acct := ctl.NewAccount(t, "team-a")
	if _, err := acct.EC2.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatal(err)
	}
	metricsURL := ctl.Admin.Endpoint + "/metrics"
	junk := func(n int, seed uint64) {
		sendJunk(t, ctl.Endpoint, n, seed)
		sendJunk(t, ctl.S3Endpoint, n/4, seed) // S3 sees made-up paths and subresources
	}
	junk(400, 1)
	before := scrape(t, metricsURL)
	junk(4000, 2)
	after := scrape(t, metricsURL)
	if len(after) != len(before) {
		t.Fatalf("5,000 junk requests grew the request metrics from %d to %d lines", len(before), len(after))
	}
	joined := strings.Join(after, "\n")
	if !strings.Contains(joined, `action="DescribeVpcs"`) {
		t.Errorf("the signed DescribeVpcs is not counted under its action:\n%s", joined)
	}
	if !strings.Contains(joined, `service="unknown"`) || !strings.Contains(joined, `action="unknown"`) {
		t.Errorf("junk is not counted under unknown:\n%s", joined)
	}
}

// TestMadeUpSessionTokenRefused: a request signed with a real key but
// carrying an X-Amz-Security-Token Kumo never issued was served as if the
// token were absent. EC2 answers AuthFailure, IAM and STS
// InvalidClientTokenId, as AWS does for an invalid token.
func TestMadeUpSessionTokenRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctl := controllertest.Start(t, b)
		a := startAPI(t, ctl)
		acct := ctl.NewAccount(t, "team-a")
		ctx := context.Background()
		const token = "FwoGZXIvYXdzEMadeUpSessionToken//////////wEaDNotARealToken=="
		if _, err := a.ec2(acct.KeyID, acct.Secret, "").DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); err != nil {
			t.Fatalf("without a token: %v", err)
		}
		_, err := a.ec2(acct.KeyID, acct.Secret, token).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		if errorCode(err) != "AuthFailure" || httpStatus(err) != http.StatusUnauthorized {
			t.Errorf("EC2 with a made-up token: %v, want AuthFailure (401)", err)
		}
		cfg := a.config(acct.KeyID, acct.Secret, token)
		_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if errorCode(err) != "InvalidClientTokenId" || httpStatus(err) != http.StatusForbidden {
			t.Errorf("STS with a made-up token: %v, want InvalidClientTokenId (403)", err)
		}
		_, err = iam.NewFromConfig(cfg).ListUsers(ctx, &iam.ListUsersInput{})
		if errorCode(err) != "InvalidClientTokenId" {
			t.Errorf("IAM with a made-up token: %v, want InvalidClientTokenId", err)
		}
	})
}

// proxy forwards TCP connections to a database until cut, when it closes
// every connection and refuses new ones: the database has gone away.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(d, c); d.Close() }()
			go func() { _, _ = io.Copy(c, d); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// hammer sends n CreateVpc requests at once and returns their errors.
func hammer(c *ec2.Client, n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.CreateVpc(context.Background(), &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
		}()
	}
	wg.Wait()
	return errs
}

func wantUnavailable(t *testing.T, a *api, errs []error) {
	t.Helper()
	for _, err := range errs {
		if errorCode(err) != "ServiceUnavailable" || httpStatus(err) != http.StatusServiceUnavailable {
			t.Fatalf("request during the outage: %v, want ServiceUnavailable (503)\n%s", err, strings.Join(a.log.Lines("level=ERROR"), "\n"))
		}
	}
	if n := len(a.log.Lines("level=ERROR")); n == 0 || n > 3 {
		t.Errorf("%d requests during the outage wrote %d ERROR lines, want 1-3:\n%s", len(errs), n, strings.Join(a.log.Lines("level=ERROR"), "\n"))
	}
	if n := len(a.log.Lines("level=INFO")); n > 5 {
		t.Errorf("the failed requests also wrote %d INFO lines", n)
	}
}

// TestPostgresOutageAnswers503: with PostgreSQL gone, every request got
// 500 InternalError and an ERROR line each (29,642 lines in 15 s). Now
// they get 503 ServiceUnavailable, which SDKs retry, and the log holds a
// few lines with a count of the rest.
func TestPostgresOutageAnswers503(t *testing.T) {
	var pg *storetest.Backend
	for _, b := range storetest.Backends() {
		if b.Name == "postgres" {
			pg = &b
		}
	}
	if pg == nil {
		t.Skipf("PostgreSQL not configured: %s is not set (make test starts a server and sets it)", storetest.EnvPostgres)
	}
	opts := pg.Options(t)
	u, err := neturlParse(opts.DSN)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	ctl := controllertest.StartIn(t, opts.DataDir, u.String())
	a := startAPI(t, ctl)
	acct := ctl.NewAccount(t, "team-a")
	c := a.ec2(acct.KeyID, acct.Secret, "")
	if _, err := c.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatal(err)
	}
	p.cut()
	wantUnavailable(t, a, hammer(c, 300))
}

// TestSQLiteLockedAnswers503: a database locked by another process (here a
// transaction held open on kumo.db) makes writers wait out the busy
// timeout; they then get 503, not 500, and the log stays short.
func TestSQLiteLockedAnswers503(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the 10 s busy timeout")
	}
	ctl := controllertest.Start(t, storetest.Backends()[0])
	a := startAPI(t, ctl)
	acct := ctl.NewAccount(t, "team-a")
	c := a.ec2(acct.KeyID, acct.Secret, "")
	if _, err := c.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatal(err)
	}
	unlock := lockSQLite(t, ctl.DataDir)
	defer unlock()
	wantUnavailable(t, a, hammer(c, 20))
}

// TestClientClosedIsNotAServerError: a client that gives up mid-request
// was counted as 500 InternalError and logged at ERROR. Now it is counted
// as ClientClosedRequest and logged at INFO with status 499.
func TestClientClosedIsNotAServerError(t *testing.T) {
	ctl := controllertest.Start(t, storetest.Backends()[0])
	a := startAPI(t, ctl)
	acct := ctl.NewAccount(t, "team-a")
	c := a.ec2(acct.KeyID, acct.Secret, "")
	if _, err := c.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatal(err)
	}
	unlock := lockSQLite(t, ctl.DataDir) // the write waits, so the client can leave mid-request
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	cancel()
	if err == nil {
		t.Fatal("CreateVpc succeeded under a held lock")
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(a.log.Lines("status=499")) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	unlock()
	lines := a.log.Lines("action=CreateVpc")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=INFO") || !strings.Contains(lines[0], "status=499") ||
		!strings.Contains(lines[0], "code="+apiserver.CodeClientClosed) {
		t.Fatalf("log of the abandoned request:\n%s\nwant one INFO line with status 499", strings.Join(lines, "\n"))
	}
	if !strings.Contains(strings.Join(metricLines(t, a.metrics), "\n"), `code="ClientClosedRequest"`) {
		t.Error("the abandoned request is not counted as ClientClosedRequest")
	}
	if n := len(a.log.Lines("InternalError")); n > 0 {
		t.Errorf("%d lines still call it InternalError", n)
	}
}
