package ldaplogin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/ldapauth"
	"github.com/kumo-cloud/kumo/internal/ldaptest"
)

const (
	devAccount = "111122223333"
	opsAccount = "444455556666"
)

// fakeIssuer stands in for STS and records what it was asked for.
type fakeIssuer struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (f *fakeIssuer) IssueRoleSession(_ context.Context, account, role, session string, d time.Duration, tags map[string]string) (Credentials, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%s/%s/%s/%v/%s", account, role, session, d, tags["LdapUser"]))
	if f.err != nil {
		return Credentials{}, f.err
	}
	return Credentials{AccessKeyID: "ASIAFAKE" + strings.ToUpper(session), SecretAccessKey: "secret-" + session,
		SessionToken: "token-" + role, Expiration: time.Now().Add(d)}, nil
}

func (f *fakeIssuer) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return ""
	}
	return f.calls[len(f.calls)-1]
}

type fixture struct {
	dir     *ldaptest.Server
	issuer  *fakeIssuer
	handler *Handler
	srv     *httptest.Server
	bob     string
	devs    string
}

// newFixture: alice is in devs and ops (two roles), bob in devs, carol in none.
func newFixture(t *testing.T) *fixture {
	d := ldaptest.Start(t)
	alice := d.AddUser("alice", "alice-pw", 1001)
	bob := d.AddUser("bob", "bob-pw", 1002)
	d.AddUser("carol", "carol-pw", 1003)
	devs := d.AddGroup("devs", alice, bob)
	d.AddGroup("ops", alice)
	pw := filepath.Join(t.TempDir(), "bind-pw")
	if err := os.WriteFile(pw, []byte(ldaptest.RootPassword), 0o600); err != nil {
		t.Fatal(err)
	}
	auth, err := ldapauth.New(ldapauth.Config{URL: d.LDAPSURL, CAFile: d.CAFile, BindDN: ldaptest.RootDN, BindPasswordFile: pw,
		UserBase: "ou=people," + ldaptest.Suffix, GroupBase: "ou=groups," + ldaptest.Suffix,
		MaxSession: ldapauth.Duration{Duration: time.Hour},
		Mappings: []ldapauth.Mapping{{Group: "devs", AccountID: devAccount, Role: "Developer"},
			{Group: "ops", AccountID: opsAccount, Role: "Operator"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: d, issuer: &fakeIssuer{}, bob: bob, devs: devs}
	f.handler = &Handler{Auth: auth, Issuer: f.issuer}
	f.srv = httptest.NewServer(f.handler)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) post(t *testing.T, req Request) (Response, error) {
	t.Helper()
	return RequestLogin(context.Background(), http.DefaultClient, f.srv.URL, req)
}

func code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return fmt.Sprint(err)
}

func TestLoginIssuesMappedRole(t *testing.T) {
	f := newFixture(t)
	resp, err := f.post(t, Request{User: "bob", Password: "bob-pw", DurationSeconds: 7200})
	if err != nil {
		t.Fatal(err)
	}
	// The session is capped at the configured hour, named after the user.
	if want := devAccount + "/Developer/bob/1h0m0s/bob"; f.issuer.last() != want {
		t.Fatalf("issuer got %q, want %q", f.issuer.last(), want)
	}
	if resp.AccessKeyID != "ASIAFAKEBOB" || resp.SessionToken != "token-Developer" || resp.RoleArn != "arn:aws:iam::"+devAccount+":role/Developer" {
		t.Fatalf("response %+v", resp)
	}
	if d := time.Until(resp.Expiration); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("expiration in %v, want about 1h", d)
	}
	if _, err := f.post(t, Request{User: "bob", Password: "bob-pw", DurationSeconds: 1200}); err != nil || !strings.Contains(f.issuer.last(), "/20m0s/") {
		t.Fatalf("shorter session: %v, issuer got %q", err, f.issuer.last())
	}
}

func TestLoginRoleChoice(t *testing.T) {
	f := newFixture(t)
	_, err := f.post(t, Request{User: "alice", Password: "alice-pw"})
	var e *Error
	if !errors.As(err, &e) || e.Code != "RoleChoiceRequired" || len(e.Roles) != 2 {
		t.Fatalf("alice without a role = %v, want RoleChoiceRequired with 2 roles", err)
	}
	ops := "arn:aws:iam::" + opsAccount + ":role/Operator"
	if resp, err := f.post(t, Request{User: "alice", Password: "alice-pw", Role: ops}); err != nil || resp.RoleArn != ops {
		t.Fatalf("alice picking ops = %+v, %v", resp, err)
	}
	if _, err := f.post(t, Request{User: "alice", Password: "alice-pw", Role: "arn:aws:iam::" + opsAccount + ":role/Admin"}); code(err) != "AccessDenied" {
		t.Fatalf("alice asking for an unmapped role = %v, want AccessDenied", err)
	}
}

func TestLoginRefusals(t *testing.T) {
	f := newFixture(t)
	for name, tc := range map[string]struct {
		req  Request
		want string
	}{
		"no mapping":     {Request{User: "carol", Password: "carol-pw"}, "AccessDenied"},
		"wrong password": {Request{User: "bob", Password: "nope"}, "InvalidCredentials"},
		"unknown user":   {Request{User: "mallory", Password: "x"}, "InvalidCredentials"},
		"short session":  {Request{User: "bob", Password: "bob-pw", DurationSeconds: 60}, "ValidationError"},
		"no user":        {Request{Password: "x"}, "ValidationError"},
	} {
		if _, err := f.post(t, tc.req); code(err) != tc.want {
			t.Errorf("%s: %v, want %s", name, err, tc.want)
		}
	}
	if len(f.issuer.calls) != 0 {
		t.Fatalf("issuer called on refusals: %v", f.issuer.calls)
	}
	resp, err := http.Get(f.srv.URL + Path)
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET = %v %v, want 405", resp.Status, err)
	}
	resp.Body.Close()
	f.handler.Issuer = nil
	if _, err := f.post(t, Request{User: "bob", Password: "bob-pw"}); code(err) != "Unsupported" {
		t.Fatalf("no issuer = %v, want Unsupported", err)
	}
}

// TestLoginAfterGroupRemoval: ldapmodify between two logins; the second
// is refused because bob's only mapped group no longer lists him.
func TestLoginAfterGroupRemoval(t *testing.T) {
	f := newFixture(t)
	if _, err := f.post(t, Request{User: "bob", Password: "bob-pw"}); err != nil {
		t.Fatal(err)
	}
	f.dir.RemoveMember(f.devs, f.bob)
	if _, err := f.post(t, Request{User: "bob", Password: "bob-pw"}); code(err) != "AccessDenied" {
		t.Fatalf("after removal: %v, want AccessDenied", err)
	}
}

func TestLoginIssuerFailure(t *testing.T) {
	f := newFixture(t)
	f.issuer.err = errors.New("read role Developer: database is locked")
	if _, err := f.post(t, Request{User: "bob", Password: "bob-pw"}); code(err) != "AccessDenied" || strings.Contains(err.Error(), "database") {
		t.Fatalf("issuer failure = %v, want AccessDenied without the internal cause", err)
	}
	f.issuer.err = awsapi.NewError("ValidationError", http.StatusBadRequest, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	if _, err := f.post(t, Request{User: "bob", Password: "bob-pw"}); code(err) != "ValidationError" || !strings.Contains(err.Error(), "MaxSessionDuration") {
		t.Fatalf("issuer validation error = %v, want it passed on", err)
	}
}

func TestCheckEndpoint(t *testing.T) {
	for ep, ok := range map[string]bool{"https://cloud.example:8773": true, "http://127.0.0.1:8773": true, "http://localhost:8773/": true,
		"http://cloud.example:8773": false, "ftp://x": false, "cloud.example": false} {
		if _, err := CheckEndpoint(ep); (err == nil) != ok {
			t.Errorf("CheckEndpoint(%s) = %v", ep, err)
		}
	}
}

func TestWriteProfileKeepsOthers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	old := "[default]\naws_access_key_id = AKIAOLD\naws_secret_access_key = s\n\n[kumo]\naws_access_key_id = ASIAOLD\naws_session_token = old\n\n[other]\nregion = x\n"
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	r := Response{AccessKeyID: "ASIANEW", SecretAccessKey: "sec", SessionToken: "tok", RoleArn: "arn:aws:iam::111122223333:role/Dev", Expiration: time.Now()}
	if err := WriteProfile(path, "kumo", r); err != nil {
		t.Fatal(err)
	}
	if err := WriteProfile(path, "fresh", r); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	got := string(b)
	for _, want := range []string{"[default]\naws_access_key_id = AKIAOLD", "[kumo]\naws_access_key_id = ASIANEW\naws_secret_access_key = sec\naws_session_token = tok",
		"[other]\nregion = x", "[fresh]\naws_access_key_id = ASIANEW"} {
		if !strings.Contains(got, want) {
			t.Errorf("credentials file lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "ASIAOLD") || strings.Count(got, "[kumo]") != 1 {
		t.Errorf("old kumo profile not replaced:\n%s", got)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode())
	}
}

func TestProcessOutput(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	b, err := ProcessOutput(Response{AccessKeyID: "ASIA1", SecretAccessKey: "s", SessionToken: "t", Expiration: exp})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Version": 1.0, "AccessKeyId": "ASIA1", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2030-01-02T03:04:05Z"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("credential_process JSON = %s", bytes.TrimSpace(b))
	}
}
