package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kumo-cloud/kumo/internal/admin"
	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// run executes the kumo command line and returns its output.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := NewRoot()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestAdminCommandsAgainstARealServer(t *testing.T) {
	srv := controllertest.Start(t, storetest.Backends()[0])
	dir := srv.DataDir

	out, err := run(t, "admin", "--data-dir", dir, "account", "create", "team-a", "--json")
	if err != nil {
		t.Fatalf("account create: %v\n%s", err, out)
	}
	var created admin.CreatedAccount
	if err := json.Unmarshal([]byte(out), &created); err != nil || len(created.AccountId) != 12 || !strings.HasPrefix(created.AccessKeyId, "AKIA") || len(created.SecretAccessKey) != 40 {
		t.Fatalf("account create --json printed %q (%v)", out, err)
	}
	if out, err := run(t, "admin", "--data-dir", dir, "account", "create", "team-a"); err == nil || !strings.Contains(err.Error(), "AlreadyExists") {
		t.Fatalf("duplicate account: err=%v out=%s", err, out)
	}
	if out, err = run(t, "admin", "--data-dir", dir, "account", "list"); err != nil || !strings.Contains(out, created.AccountId) || !strings.Contains(out, "team-a") {
		t.Fatalf("account list: %v\n%s", err, out)
	}

	out, err = run(t, "admin", "--data-dir", dir, "key", "create", "--account", "team-a")
	var key admin.AccessKey
	if err != nil || json.Unmarshal([]byte(out), &key) != nil || key.SecretAccessKey == "" {
		t.Fatalf("key create: %v\n%s", err, out)
	}
	if _, err := run(t, "admin", "--data-dir", dir, "key", "create", "--account", "team-a"); err == nil || !strings.Contains(err.Error(), "LimitExceeded") {
		t.Fatalf("third root key: got %v, want LimitExceeded", err)
	}
	if out, err = run(t, "admin", "--data-dir", dir, "key", "list", "--account", created.AccountId); err != nil || strings.Count(out, "AKIA") != 2 {
		t.Fatalf("key list: %v\n%s", err, out)
	}
	if _, err := run(t, "admin", "--data-dir", dir, "key", "delete", "--account", "team-a", key.AccessKeyId); err != nil {
		t.Fatalf("key delete: %v", err)
	}
	// A reset revokes every root key at once and hands out one new key.
	out, err = run(t, "admin", "--data-dir", dir, "key", "reset", "--account", "team-a")
	var fresh admin.AccessKey
	if err != nil || json.Unmarshal([]byte(out), &fresh) != nil || fresh.SecretAccessKey == "" || fresh.AccessKeyId == created.AccessKeyId {
		t.Fatalf("key reset: %v\n%s", err, out)
	}
	if out, err = run(t, "admin", "--data-dir", dir, "key", "list", "--account", "team-a"); err != nil || strings.Count(out, "AKIA") != 1 || !strings.Contains(out, fresh.AccessKeyId) {
		t.Fatalf("keys after reset: %v\n%s", err, out)
	}
	old := srv.Clients(created.AccessKeyId, created.SecretAccessKey)
	if _, err := old.STS.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err == nil {
		t.Fatal("the root's old key still works after key reset")
	}
	if _, err := srv.Clients(fresh.AccessKeyId, fresh.SecretAccessKey).STS.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("the new key: %v", err)
	}
	if _, err := run(t, "admin", "--data-dir", dir, "key", "reset", "--account", "team-a", "--user", "nobody"); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Fatalf("key reset of an unknown user: got %v, want NotFound", err)
	}
	if _, err := run(t, "admin", "--data-dir", dir, "account", "delete", "team-a"); err != nil {
		t.Fatalf("account delete: %v", err)
	}
	if _, err := run(t, "admin", "--data-dir", dir, "account", "delete", "team-a"); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Fatalf("deleting a deleted account: got %v, want NotFound", err)
	}
}

func TestAdminEndpointNeedsToken(t *testing.T) {
	srv := controllertest.Start(t, storetest.Backends()[0])
	t.Setenv(admin.EnvToken, "")
	if _, err := run(t, "admin", "--endpoint", srv.Admin.Endpoint, "account", "list"); err == nil || !strings.Contains(err.Error(), admin.EnvToken) {
		t.Fatalf("no token: got %v", err)
	}
	t.Setenv(admin.EnvToken, "wrong")
	if _, err := run(t, "admin", "--endpoint", srv.Admin.Endpoint, "account", "list"); err == nil || !strings.Contains(err.Error(), "AuthFailure") {
		t.Fatalf("wrong token: got %v", err)
	}
	t.Setenv(admin.EnvToken, srv.Admin.Token)
	if out, err := run(t, "admin", "--endpoint", srv.Admin.Endpoint, "account", "list", "--json"); err != nil || !strings.HasPrefix(strings.TrimSpace(out), "[") {
		t.Fatalf("right token: %v\n%s", err, out)
	}
}

func TestVersion(t *testing.T) {
	out, err := run(t, "version")
	if err != nil || !strings.HasPrefix(out, "kumo ") {
		t.Fatalf("version: %q %v", out, err)
	}
}

func TestServerFlagsValidate(t *testing.T) {
	f := serverFlags{region: "kumo-1", zones: "a, kumo-1b ,"}
	cfg, err := f.config()
	if err != nil || len(cfg.Zones) != 2 || cfg.Zones[0] != "kumo-1a" || cfg.Zones[1] != "kumo-1b" {
		t.Fatalf("zones: %v %v", cfg.Zones, err)
	}
	if _, err := (&serverFlags{region: "kumo-1", zones: ","}).config(); err == nil {
		t.Fatal("empty zone list accepted")
	}
}
