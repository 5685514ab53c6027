package ldapauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/kumo-cloud/kumo/internal/ratelog"
)

var (
	// ErrInvalidCredentials is a wrong password, an unknown user or an
	// empty password: one error, so that a caller cannot probe names.
	ErrInvalidCredentials = errors.New("invalid user name or password")
	// ErrThrottled means too many recent failures for the user or address.
	ErrThrottled = errors.New("too many failed logins; try again later")
)

// Result is a successful login.
type Result struct {
	User   string
	UserDN string
	// Groups are the DNs of the user's groups at the time of the login.
	Groups []string
	// Mappings are the configured mappings the user's groups grant.
	Mappings []Mapping
}

// Authenticator checks logins against the configured directory.
type Authenticator struct {
	cfg     Config
	tls     *tls.Config
	logger  *slog.Logger
	logs    ratelog.Limiter
	limiter *failureLimiter
}

// New checks the configuration and loads the CA file.
func New(cfg Config, logger *slog.Logger) (*Authenticator, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(cfg.URL, "ldaps://"), "ldap://"))
	if err != nil {
		host = strings.TrimPrefix(strings.TrimPrefix(cfg.URL, "ldaps://"), "ldap://")
	}
	tc := &tls.Config{ServerName: strings.TrimSuffix(host, "/"), MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldap ca_file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldap ca_file %s: no PEM certificate in it", cfg.CAFile)
		}
	}
	// Read at every login (so it can be rotated), but checked now so a
	// typo fails at start-up rather than at the first login.
	if _, err := os.ReadFile(cfg.BindPasswordFile); err != nil {
		return nil, fmt.Errorf("ldap bind_password_file: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Authenticator{cfg: cfg, tls: tc, logger: logger, logs: ratelog.Limiter{Every: time.Second, Burst: 20},
		limiter: newFailureLimiter(cfg.MaxFailures, cfg.FailureWindow.Duration)}, nil
}

// MaxSession is the configured cap on session lifetime.
func (a *Authenticator) MaxSession() time.Duration { return a.cfg.MaxSession.Duration }

// Login binds as user with password and returns the user's mappings.
// source is the client's address, for the per-address failure limit.
// The password is never logged or kept.
func (a *Authenticator) Login(ctx context.Context, user, password, source string) (Result, error) {
	userKey, srcKey := "user:"+strings.ToLower(user), "addr:"+source
	if !a.limiter.allowed(userKey) || !a.limiter.allowed(srcKey) {
		a.logFailure(ctx, user, source, "throttled")
		return Result{}, ErrThrottled
	}
	res, err := a.login(ctx, user, password)
	if errors.Is(err, ErrInvalidCredentials) {
		a.limiter.fail(userKey)
		a.limiter.fail(srcKey)
		a.logFailure(ctx, user, source, "invalid credentials")
		return Result{}, err
	}
	if err != nil {
		a.logger.ErrorContext(ctx, "ldap login: directory error", "user", user, "source", source, "err", err)
		return Result{}, err
	}
	a.limiter.reset(userKey)
	a.logger.InfoContext(ctx, "ldap login", "user", user, "source", source, "dn", res.UserDN, "groups", len(res.Groups), "mappings", len(res.Mappings))
	return res, nil
}

func (a *Authenticator) logFailure(ctx context.Context, user, source, reason string) {
	ok, suppressed := a.logs.Allow("ldap-login-failed")
	if !ok {
		return
	}
	a.logger.WarnContext(ctx, "ldap login failed", "user", user, "source", source, "reason", reason, "suppressed", suppressed)
}

func (a *Authenticator) login(ctx context.Context, user, password string) (Result, error) {
	if user == "" || password == "" || len(user) > 256 {
		// An empty password would be an unauthenticated bind, which LDAP
		// servers accept without checking anything.
		return Result{}, ErrInvalidCredentials
	}
	conn, err := a.dial()
	if err != nil {
		return Result{}, err
	}
	// A cancelled request cuts the exchange short.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer func() {
		stop()
		conn.Close()
	}()
	bindPW, err := os.ReadFile(a.cfg.BindPasswordFile)
	if err != nil {
		return Result{}, fmt.Errorf("ldap bind password: %w", err)
	}
	if err := conn.Bind(a.cfg.BindDN, strings.TrimRight(string(bindPW), "\r\n")); err != nil {
		return Result{}, fmt.Errorf("ldap bind as %s: %w", a.cfg.BindDN, err)
	}
	entry, err := a.findUser(conn, user)
	if err != nil {
		return Result{}, err
	}
	if err := conn.Bind(entry.DN, password); err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			return Result{}, ErrInvalidCredentials
		}
		return Result{}, fmt.Errorf("ldap bind as the user: %w", err)
	}
	// Back to the service account: the user may not be allowed to read groups.
	if err := conn.Bind(a.cfg.BindDN, strings.TrimRight(string(bindPW), "\r\n")); err != nil {
		return Result{}, fmt.Errorf("ldap bind as %s: %w", a.cfg.BindDN, err)
	}
	groups, err := a.groups(conn, user, entry)
	if err != nil {
		return Result{}, err
	}
	return Result{User: user, UserDN: entry.DN, Groups: groups, Mappings: a.mappingsFor(groups)}, nil
}

func (a *Authenticator) dial() (*ldap.Conn, error) {
	d := &net.Dialer{Timeout: a.cfg.Timeout.Duration}
	conn, err := ldap.DialURL(a.cfg.URL, ldap.DialWithDialer(d), ldap.DialWithTLSConfig(a.tls))
	if err != nil {
		return nil, fmt.Errorf("ldap connect %s: %w", a.cfg.URL, err)
	}
	conn.SetTimeout(a.cfg.Timeout.Duration)
	if a.cfg.StartTLS {
		if err := conn.StartTLS(a.tls); err != nil {
			conn.Close()
			return nil, fmt.Errorf("ldap starttls %s: %w", a.cfg.URL, err)
		}
	}
	return conn, nil
}

func (a *Authenticator) findUser(conn *ldap.Conn, user string) (*ldap.Entry, error) {
	filter := strings.ReplaceAll(a.cfg.UserFilter, "{user}", ldap.EscapeFilter(user))
	attrs := []string{"1.1"} // no attributes, the DN alone
	if a.cfg.MemberOfAttribute != "" {
		attrs = []string{a.cfg.MemberOfAttribute}
	}
	res, err := conn.Search(ldap.NewSearchRequest(a.cfg.UserBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2,
		int(a.cfg.Timeout.Seconds()), false, filter, attrs, nil))
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, fmt.Errorf("ldap user search: %w", err)
	}
	if res == nil || len(res.Entries) != 1 {
		// None: unknown user. Several: the filter is ambiguous, and
		// guessing which one would let the wrong person in.
		return nil, ErrInvalidCredentials
	}
	return res.Entries[0], nil
}

func (a *Authenticator) groups(conn *ldap.Conn, user string, entry *ldap.Entry) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(dn string) {
		if k := strings.ToLower(dn); !seen[k] {
			seen[k] = true
			out = append(out, dn)
		}
	}
	if a.cfg.MemberOfAttribute != "" {
		for _, dn := range entry.GetAttributeValues(a.cfg.MemberOfAttribute) {
			add(dn)
		}
	}
	if a.cfg.GroupBase != "" {
		filter := strings.NewReplacer("{dn}", ldap.EscapeFilter(entry.DN), "{user}", ldap.EscapeFilter(user)).Replace(a.cfg.GroupFilter)
		res, err := conn.Search(ldap.NewSearchRequest(a.cfg.GroupBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0,
			int(a.cfg.Timeout.Seconds()), false, filter, []string{"1.1"}, nil))
		if err != nil {
			return nil, fmt.Errorf("ldap group search: %w", err)
		}
		for _, e := range res.Entries {
			add(e.DN)
		}
	}
	return out, nil
}

// mappingsFor returns the mappings whose group is one of groups, by DN or CN.
func (a *Authenticator) mappingsFor(groups []string) []Mapping {
	var out []Mapping
	for _, m := range a.cfg.Mappings {
		for _, g := range groups {
			if groupMatches(m.Group, g) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

func groupMatches(want, groupDN string) bool {
	if strings.EqualFold(want, groupDN) {
		return true
	}
	dn, err := ldap.ParseDN(groupDN)
	if err != nil || len(dn.RDNs) == 0 {
		return false
	}
	if wdn, err := ldap.ParseDN(want); err == nil && strings.Contains(want, "=") {
		return wdn.EqualFold(dn)
	}
	for _, at := range dn.RDNs[0].Attributes {
		if strings.EqualFold(at.Type, "cn") && strings.EqualFold(at.Value, want) {
			return true
		}
	}
	return false
}
