package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/kumo-cloud/kumo/internal/controller"
	"github.com/kumo-cloud/kumo/internal/ldapauth"
	"github.com/kumo-cloud/kumo/internal/ldaplogin"
	"github.com/kumo-cloud/kumo/internal/ldaptest"
	"github.com/kumo-cloud/kumo/internal/logtest"
)

// loginServer starts slapd and a controller whose --ldap-config maps the
// group devs to role Developer in account 111122223333; the role sessions
// come from a stand-in issuer (the STS service is plugged in at merge).
func loginServer(t *testing.T) (endpoint string, logs *logtest.Buffer) {
	d := ldaptest.Start(t)
	alice := d.AddUser("alice", "alice-Secret-pw", 1001)
	d.AddGroup("devs", alice)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bind-pw"), []byte(ldaptest.RootPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`{"url": %q, "start_tls": true, "ca_file": %q, "bind_dn": %q, "bind_password_file": "bind-pw",
		"user_base": "ou=people,%[4]s", "group_base": "ou=groups,%[4]s", "max_session": "2h",
		"mappings": [{"group": "devs", "account": "111122223333", "role": "Developer"}]}`, d.URL, d.CAFile, ldaptest.RootDN, ldaptest.Suffix)
	if err := os.WriteFile(filepath.Join(dir, "ldap.json"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var f serverFlags
	fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse([]string{"--ldap-config", filepath.Join(dir, "ldap.json"), "--data-dir", filepath.Join(dir, "data"),
		"--ec2-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--s3-listen", "127.0.0.1:0", "--node-listen", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := f.config()
	if err != nil {
		t.Fatal(err)
	}
	logs = &logtest.Buffer{}
	cfg.Logger, cfg.NoWorkers = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), true
	cfg.LoginIssuer = ldaplogin.IssuerFunc(func(_ context.Context, account, role, session string, dur time.Duration, _ map[string]string) (ldaplogin.Credentials, error) {
		return ldaplogin.Credentials{AccessKeyID: "ASIA" + strings.ToUpper(session), SecretAccessKey: "secret-" + account,
			SessionToken: "token-" + role, Expiration: time.Now().Add(dur)}, nil
	})
	c, err := controller.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return "http://" + c.EC2Addr.String(), logs
}

func passwordFD(t *testing.T, password string) string {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if _, err := w.WriteString(password + "\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return fmt.Sprint(r.Fd())
}

// TestKumoLoginAgainstSlapd runs `kumo login` against a server with LDAP
// login enabled: credential_process JSON, a profile in the credentials
// file, a wrong password, and no password in the server's log.
func TestKumoLoginAgainstSlapd(t *testing.T) {
	endpoint, logs := loginServer(t)
	out, err := run(t, "login", "--endpoint", endpoint, "--user", "alice", "--password-fd", passwordFD(t, "alice-Secret-pw"), "--credential-process")
	if err != nil {
		t.Fatalf("kumo login --credential-process: %v\n%s", err, out)
	}
	var cp struct {
		Version                                                int
		AccessKeyId, SecretAccessKey, SessionToken, Expiration string
	}
	if err := json.Unmarshal([]byte(out), &cp); err != nil || cp.Version != 1 || cp.AccessKeyId != "ASIAALICE" || cp.SessionToken != "token-Developer" {
		t.Fatalf("credential_process output %q (%v)", out, err)
	}
	if exp, err := time.Parse(time.RFC3339, cp.Expiration); err != nil || time.Until(exp) < 119*time.Minute {
		t.Fatalf("expiration %q (%v), want the configured 2h", cp.Expiration, err)
	}

	creds := filepath.Join(t.TempDir(), "credentials")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	if out, err := run(t, "login", "--endpoint", endpoint, "--user", "alice", "--password-fd", passwordFD(t, "alice-Secret-pw"), "--profile", "corp"); err != nil {
		t.Fatalf("kumo login --profile: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(creds)
	if !strings.Contains(string(b), "[corp]\naws_access_key_id = ASIAALICE\naws_secret_access_key = secret-111122223333\naws_session_token = token-Developer") {
		t.Fatalf("credentials file:\n%s", b)
	}

	_, err = run(t, "login", "--endpoint", endpoint, "--user", "alice", "--password-fd", passwordFD(t, "wrong-Secret-pw"), "--credential-process")
	if err == nil || !strings.Contains(err.Error(), "InvalidCredentials") {
		t.Fatalf("wrong password: %v, want InvalidCredentials", err)
	}
	all := strings.Join(logs.Lines(""), "\n")
	if len(logs.Lines("ldap login failed")) != 1 || strings.Contains(all, "Secret-pw") || strings.Contains(all, ldaptest.RootPassword) {
		t.Fatalf("server log (want one failure line, no password):\n%s", all)
	}
}

func TestKumoLoginRefusesClearTextEndpoint(t *testing.T) {
	if _, err := run(t, "login", "--endpoint", "http://cloud.example:8773", "--user", "a", "--password-fd", "0"); err == nil || !strings.Contains(err.Error(), "clear text") {
		t.Fatalf("http endpoint: %v", err)
	}
}

func TestLDAPConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ldap.json")
	_ = os.WriteFile(p, []byte(`{"url": "ldap://dir:389", "bind_dn": "cn=x", "bind_password_file": "pw", "user_base": "ou=p", "group_base": "ou=g",
		"mappings": [{"group": "devs", "account": "111122223333", "role": "Dev"}]}`), 0o600)
	if _, err := ldapauth.LoadConfig(p); err == nil || !strings.Contains(err.Error(), "clear text") {
		t.Fatalf("ldap:// without start_tls: %v", err)
	}
	_ = os.WriteFile(p, []byte(`{"url": "ldaps://dir", "typo": 1}`), 0o600)
	if _, err := ldapauth.LoadConfig(p); err == nil || !strings.Contains(err.Error(), "typo") {
		t.Fatalf("unknown field: %v", err)
	}
}
