package ldapauth

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/ldaptest"
	"github.com/kumo-cloud/kumo/internal/logtest"
)

const (
	devAccount = "111122223333"
	opsAccount = "444455556666"
)

// directory starts slapd with alice (devs, admins-posix) and bob (devs).
type directory struct {
	*ldaptest.Server
	alice, bob, devs string
	pwFile           string
}

func newDirectory(t *testing.T) *directory {
	s := ldaptest.Start(t)
	t.Logf("slapd started in %v", s.StartTime)
	d := &directory{Server: s}
	d.alice = s.AddUser("alice", "alice-pw-Secret1", 1001)
	d.bob = s.AddUser("bob", "bob-pw-Secret2", 1002)
	d.devs = s.AddGroup("devs", d.alice, d.bob)
	s.AddPosixGroup("ops", 2001, "alice")
	d.pwFile = filepath.Join(t.TempDir(), "bind-pw")
	if err := os.WriteFile(d.pwFile, []byte(ldaptest.RootPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *directory) config() Config {
	return Config{URL: d.URL, StartTLS: true, CAFile: d.CAFile, BindDN: ldaptest.RootDN, BindPasswordFile: d.pwFile,
		UserBase: "ou=people," + ldaptest.Suffix, GroupBase: "ou=groups," + ldaptest.Suffix,
		Mappings: []Mapping{
			{Group: "cn=devs,ou=groups," + ldaptest.Suffix, AccountID: devAccount, Role: "Developer"},
			{Group: "ops", AccountID: opsAccount, Role: "Operator"},
		}}
}

func mustNew(t *testing.T, cfg Config, logger *slog.Logger) *Authenticator {
	t.Helper()
	a, err := New(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func roles(ms []Mapping) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.AccountID+"/"+m.Role)
	}
	return strings.Join(out, ",")
}

// TestLoginTLSModes logs in over StartTLS and over ldaps, with groups found
// by member (groupOfNames, matched by DN) and memberUid (posixGroup, by CN),
// and again with groups read from the user's memberOf attribute.
func TestLoginTLSModes(t *testing.T) {
	d := newDirectory(t)
	ldaps := d.config()
	ldaps.URL, ldaps.StartTLS = d.LDAPSURL, false
	memberOf := d.config()
	memberOf.GroupBase, memberOf.MemberOfAttribute = "", "memberOf"
	for name, tc := range map[string]struct {
		cfg  Config
		want string
	}{
		"starttls": {d.config(), devAccount + "/Developer," + opsAccount + "/Operator"},
		"ldaps":    {ldaps, devAccount + "/Developer," + opsAccount + "/Operator"},
		"memberOf": {memberOf, devAccount + "/Developer"}, // posixGroup does not set memberOf
	} {
		t.Run(name, func(t *testing.T) {
			res, err := mustNew(t, tc.cfg, nil).Login(context.Background(), "alice", "alice-pw-Secret1", "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if res.UserDN != d.alice || roles(res.Mappings) != tc.want {
				t.Fatalf("login = %s %q, want %s %q (groups %v)", res.UserDN, roles(res.Mappings), d.alice, tc.want, res.Groups)
			}
		})
	}
}

// TestLoginRefusesWrongCA: a directory whose certificate does not chain
// to the configured CA is not trusted (TLS is verified, not just used).
func TestLoginRefusesWrongCA(t *testing.T) {
	d := newDirectory(t)
	cfg := d.config()
	cfg.CAFile = ""
	_, err := mustNew(t, cfg, nil).Login(context.Background(), "alice", "alice-pw-Secret1", "127.0.0.1")
	if err == nil || errors.Is(err, ErrInvalidCredentials) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("login with the system roots = %v, want a certificate error", err)
	}
}

func TestLoginRefusesBadCredentials(t *testing.T) {
	d := newDirectory(t)
	a := mustNew(t, d.config(), nil)
	for _, c := range [][2]string{{"alice", "wrong"}, {"alice", ""}, {"nobody", "x"}, {"*", "alice-pw-Secret1"}, {"alice)(uid=*", "x"}} {
		if _, err := a.Login(context.Background(), c[0], c[1], "10.0.0."+c[0]); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("login %q = %v, want ErrInvalidCredentials", c[0], err)
		}
	}
}

// TestGroupChangeBetweenLogins: the directory is read at each login, so a
// user removed from a group loses that mapping at the very next login.
func TestGroupChangeBetweenLogins(t *testing.T) {
	d := newDirectory(t)
	a := mustNew(t, d.config(), nil)
	res, err := a.Login(context.Background(), "bob", "bob-pw-Secret2", "127.0.0.1")
	if err != nil || roles(res.Mappings) != devAccount+"/Developer" {
		t.Fatalf("first login = %q, %v; want the Developer mapping", roles(res.Mappings), err)
	}
	d.RemoveMember(d.devs, d.bob)
	res, err = a.Login(context.Background(), "bob", "bob-pw-Secret2", "127.0.0.1")
	if err != nil || len(res.Mappings) != 0 {
		t.Fatalf("login after removal = %q, %v; want no mapping", roles(res.Mappings), err)
	}
}

// TestFailedLoginsThrottled: after MaxFailures failures a user is refused
// even with the right password, and so is a source address that tried
// several users; other users from other addresses are unaffected.
func TestFailedLoginsThrottled(t *testing.T) {
	d := newDirectory(t)
	cfg := d.config()
	cfg.MaxFailures = 3
	a := mustNew(t, cfg, nil)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := a.Login(ctx, "alice", "wrong", "10.0.0.1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d = %v", i, err)
		}
	}
	if _, err := a.Login(ctx, "alice", "alice-pw-Secret1", "10.0.0.9"); !errors.Is(err, ErrThrottled) {
		t.Fatalf("alice after 3 failures = %v, want ErrThrottled", err)
	}
	if _, err := a.Login(ctx, "bob", "bob-pw-Secret2", "10.0.0.1"); !errors.Is(err, ErrThrottled) {
		t.Fatalf("bob from the failing address = %v, want ErrThrottled", err)
	}
	if _, err := a.Login(ctx, "bob", "bob-pw-Secret2", "10.0.0.2"); err != nil {
		t.Fatalf("bob from another address = %v, want success", err)
	}
	a.limiter.now = func() time.Time { return time.Now().Add(cfg.withDefaults().FailureWindow.Duration + time.Second) }
	if _, err := a.Login(ctx, "alice", "alice-pw-Secret1", "10.0.0.1"); err != nil {
		t.Fatalf("alice after the window = %v, want success", err)
	}
}

// TestPasswordNeverLogged captures every log line of successful, failed
// and throttled logins and looks for the passwords.
func TestPasswordNeverLogged(t *testing.T) {
	d := newDirectory(t)
	var logs logtest.Buffer
	cfg := d.config()
	cfg.MaxFailures = 2
	a := mustNew(t, cfg, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ctx := context.Background()
	_, _ = a.Login(ctx, "alice", "alice-pw-Secret1", "10.1.1.1")
	for _, pw := range []string{"typo-Secret-A", "typo-Secret-B", "typo-Secret-C"} {
		_, _ = a.Login(ctx, "bob", pw, "10.1.1.2")
	}
	all := strings.Join(logs.Lines(""), "\n")
	if len(logs.Lines("ldap login failed")) == 0 || len(logs.Lines(`"reason":"throttled"`)) == 0 {
		t.Fatalf("failures and throttling are not logged:\n%s", all)
	}
	for _, secret := range []string{"alice-pw-Secret1", "typo-Secret", ldaptest.RootPassword} {
		if bytes.Contains([]byte(all), []byte(secret)) {
			t.Fatalf("log contains a password (%s):\n%s", secret, all)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{URL: "ldaps://dir:636", BindDN: "cn=svc", BindPasswordFile: "/pw", UserBase: "ou=p", GroupBase: "ou=g",
		Mappings: []Mapping{{Group: "devs", AccountID: devAccount, Role: "Dev"}}}
	if err := good.withDefaults().Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for name, mut := range map[string]func(*Config){
		"clear text":       func(c *Config) { c.URL = "ldap://dir:389" },
		"starttls+ldaps":   func(c *Config) { c.StartTLS = true },
		"scheme":           func(c *Config) { c.URL = "http://dir" },
		"no bind":          func(c *Config) { c.BindDN = "" },
		"no user base":     func(c *Config) { c.UserBase = "" },
		"filter sans user": func(c *Config) { c.UserFilter = "(uid=alice)" },
		"no groups":        func(c *Config) { c.GroupBase = "" },
		"no mappings":      func(c *Config) { c.Mappings = nil },
		"bad account":      func(c *Config) { c.Mappings = []Mapping{{Group: "g", AccountID: "12", Role: "r"}} },
	} {
		c := good
		mut(&c)
		if err := c.withDefaults().Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
