// Package admin serves the operator's API (accounts, access keys; later
// nodes, quotas, prices) on its own listener, authenticated by a bearer
// token generated at first start, and offers the client the CLI uses.
package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kumo-cloud/kumo/internal/ids"
)

// CredentialFile is where the server leaves the admin endpoint and token
// inside its data directory (mode 0600), for `kumo admin --data-dir`.
const CredentialFile = "admin.json"

// EnvToken names the variable that carries the token to a remote server.
const EnvToken = "KUMO_ADMIN_TOKEN"

// Credential reaches one server's admin API.
type Credential struct {
	Endpoint string `json:"endpoint"`
	Token    string `json:"token"`
}

// LoadCredential reads dir/admin.json.
func LoadCredential(dir string) (Credential, error) {
	var c Credential
	b, err := os.ReadFile(filepath.Join(dir, CredentialFile))
	if err != nil {
		return c, fmt.Errorf("read admin credential (is a server using data dir %s?): %w", dir, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("parse %s: %w", filepath.Join(dir, CredentialFile), err)
	}
	return c, nil
}

// EnsureCredential keeps the token of an earlier start (or makes one) and
// records the endpoint the server now listens on.
func EnsureCredential(dir, endpoint string) (Credential, error) {
	c, err := LoadCredential(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return c, err
	}
	if c.Token == "" {
		c.Token = ids.Token(32)
	}
	c.Endpoint = endpoint
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return c, err
	}
	tmp := filepath.Join(dir, CredentialFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return c, fmt.Errorf("write admin credential: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, CredentialFile)); err != nil {
		return c, fmt.Errorf("write admin credential: %w", err)
	}
	return c, nil
}
