package controller_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMetricsHealthAndFiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		srv := controllertest.Start(t, b)
		acct := srv.NewAccount(t, "team-a")
		if _, err := acct.EC2.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{}); err != nil {
			t.Fatal(err)
		}
		_, _ = acct.EC2.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-00000000000000000"}})

		// The pool settles a moment after the last answer is written.
		status, body := get(t, srv.Admin.Endpoint+"/metrics")
		for i := 0; i < 20 && !strings.Contains(body, "kumo_db_connections_in_use 0"); i++ {
			time.Sleep(100 * time.Millisecond)
			status, body = get(t, srv.Admin.Endpoint+"/metrics")
		}
		for _, want := range []string{
			`kumo_api_requests_total{action="DescribeVpcs",code="OK",service="ec2"} 1`,
			`kumo_api_requests_total{action="DescribeVpcs",code="InvalidVpcID.NotFound",service="ec2"} 1`,
			"kumo_db_connections_in_use 0",
			"kumo_api_request_duration_seconds_bucket",
		} {
			if status != 200 || !strings.Contains(body, want) {
				t.Errorf("/metrics (HTTP %d) lacks %q", status, want)
			}
		}
		if status, body := get(t, srv.Admin.Endpoint+"/healthz"); status != 200 || !strings.Contains(body, "ok") {
			t.Errorf("/healthz: %d %s", status, body)
		}
		if status, _ := get(t, srv.Admin.Endpoint+"/admin/v1/accounts"); status != http.StatusUnauthorized {
			t.Errorf("admin API without a token: HTTP %d, want 401", status)
		}
		for _, f := range []string{"secret.key", "admin.json"} {
			fi, err := os.Stat(filepath.Join(srv.DataDir, f))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v, mode %v; want 0600", f, err, fi.Mode().Perm())
			}
		}
	})
}

func TestRestartKeepsAccountsAndAdminToken(t *testing.T) {
	b := storetest.Backends()[0]
	srv := controllertest.Start(t, b)
	acct := srv.NewAccount(t, "team-a")
	token := srv.Admin.Token
	if err := srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	again := controllertest.StartIn(t, srv.DataDir, "")
	if again.Admin.Token != token {
		t.Error("the admin token changed across a restart")
	}
	c := again.Clients(acct.KeyID, acct.Secret)
	if _, err := c.EC2.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatalf("the account's key stopped working after a restart: %v", err)
	}
}

func errCode(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
