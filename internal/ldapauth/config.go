// Package ldapauth checks a user's password against an LDAP or Active
// Directory server and reads the user's groups at that moment, to find
// which Kumo account and role the user may assume. Nothing is cached or
// synced: every login asks the directory, so a user removed from a group
// loses the mapping at the next login.
package ldapauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Mapping gives the members of a directory group a role in an account.
type Mapping struct {
	// Group is the group's DN (cn=devs,ou=groups,dc=example,dc=com) or
	// its CN alone (devs); compared case-insensitively.
	Group     string `json:"group"`
	AccountID string `json:"account"`
	Role      string `json:"role"`
}

// Config is the operator's description of the directory.
type Config struct {
	// URL is ldaps://host:636 or ldap://host:389; ldap:// requires StartTLS.
	URL      string `json:"url"`
	StartTLS bool   `json:"start_tls"`
	// CAFile is a PEM bundle of the CAs the directory's certificate
	// chains to; empty means the system roots.
	CAFile string `json:"ca_file"`
	// BindDN is the service account that searches for users and groups;
	// its password is read from BindPasswordFile (never from a flag).
	BindDN           string `json:"bind_dn"`
	BindPasswordFile string `json:"bind_password_file"`
	// UserBase and UserFilter find the user's entry; {user} in the filter
	// is replaced by the escaped login name. Default filter: (uid={user});
	// Active Directory: (sAMAccountName={user}).
	UserBase   string `json:"user_base"`
	UserFilter string `json:"user_filter"`
	// GroupBase and GroupFilter find the user's groups; {dn} is the user's
	// DN, {user} the login name, both escaped. Default:
	// (|(member={dn})(uniqueMember={dn})(memberUid={user})). Empty
	// GroupBase skips the search.
	GroupBase   string `json:"group_base"`
	GroupFilter string `json:"group_filter"`
	// MemberOfAttribute, when set (memberOf), also takes the group DNs
	// listed on the user's own entry (Active Directory, OpenLDAP memberof).
	MemberOfAttribute string    `json:"member_of_attribute"`
	Mappings          []Mapping `json:"mappings"`
	// MaxSession caps the lifetime of the credentials a login returns.
	MaxSession Duration `json:"max_session"`
	// Timeout bounds each exchange with the directory (default 10s).
	Timeout Duration `json:"timeout"`
	// MaxFailures failed logins per user, and per source address, within
	// FailureWindow block further attempts until the window passes
	// (defaults 5 and 5m).
	MaxFailures   int      `json:"max_failures"`
	FailureWindow Duration `json:"failure_window"`
}

// Duration reads "1h"-style strings from JSON.
type Duration struct{ time.Duration }

// UnmarshalJSON accepts a Go duration string ("12h", "90m").
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"1h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// LoadConfig reads a JSON configuration file.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("ldap config: %w", err)
	}
	var c Config
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("ldap config %s: %w", path, err)
	}
	if err := c.withDefaults().Validate(); err != nil {
		return Config{}, fmt.Errorf("ldap config %s: %w", path, err)
	}
	// Files named in the config are relative to it, not to the server's cwd.
	for _, p := range []*string{&c.CAFile, &c.BindPasswordFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(filepath.Dir(path), *p)
		}
	}
	return c, nil
}

func (c Config) withDefaults() Config {
	if c.UserFilter == "" {
		c.UserFilter = "(uid={user})"
	}
	if c.GroupFilter == "" {
		c.GroupFilter = "(|(member={dn})(uniqueMember={dn})(memberUid={user}))"
	}
	if c.MaxSession.Duration <= 0 {
		c.MaxSession.Duration = time.Hour
	}
	if c.Timeout.Duration <= 0 {
		c.Timeout.Duration = 10 * time.Second
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = 5
	}
	if c.FailureWindow.Duration <= 0 {
		c.FailureWindow.Duration = 5 * time.Minute
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("url %q: want ldaps://host:port or ldap://host:port", c.URL)
	}
	switch u.Scheme {
	case "ldaps":
		if c.StartTLS {
			return errors.New("start_tls with an ldaps:// url: the connection is already TLS")
		}
	case "ldap":
		if !c.StartTLS {
			return errors.New("ldap:// without start_tls would send passwords in clear text: use ldaps:// or set start_tls")
		}
	default:
		return fmt.Errorf("url %q: scheme must be ldaps or ldap", c.URL)
	}
	if c.BindDN == "" || c.BindPasswordFile == "" {
		return errors.New("bind_dn and bind_password_file are required")
	}
	if c.UserBase == "" {
		return errors.New("user_base is required")
	}
	if !strings.Contains(c.UserFilter, "{user}") {
		return fmt.Errorf("user_filter %q must contain {user}", c.UserFilter)
	}
	if c.GroupBase == "" && c.MemberOfAttribute == "" {
		return errors.New("set group_base (group search) or member_of_attribute (groups on the user entry), or both")
	}
	if len(c.Mappings) == 0 {
		return errors.New("mappings: at least one group → account/role mapping is required")
	}
	for i, m := range c.Mappings {
		if m.Group == "" || m.Role == "" || len(m.AccountID) != 12 || strings.Trim(m.AccountID, "0123456789") != "" {
			return fmt.Errorf("mappings[%d]: want group, a 12-digit account and a role name", i)
		}
	}
	return nil
}
