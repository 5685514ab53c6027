package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --oidc-provider reads an issuer, its audiences and a JWKS file, and
// refuses what it cannot use.
func TestOIDCProviderFlag(t *testing.T) {
	jwks := filepath.Join(t.TempDir(), "keys.jwks")
	doc := `{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`
	if err := os.WriteFile(jwks, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	f := serverFlags{region: "kumo-1", zones: "a", oidcProviders: []string{"issuer=https://login.example.com/realm,audience=cli;web,jwks=" + jwks}}
	cfg, err := f.config()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.OIDCProviders) != 1 || cfg.OIDCProviders[0].IssuerURL != "https://login.example.com/realm" ||
		strings.Join(cfg.OIDCProviders[0].Audiences, ",") != "cli,web" || len(cfg.OIDCProviders[0].Keys.Keys) != 1 {
		t.Errorf("providers = %+v", cfg.OIDCProviders)
	}
	for _, bad := range []string{
		"issuer=http://login.example.com,audience=cli,jwks=" + jwks,
		"issuer=https://login.example.com,jwks=" + jwks,
		"issuer=https://login.example.com,audience=cli,jwks=/nonexistent",
		"issuer=https://login.example.com,audience=cli,jwks=" + os.Args[0],
	} {
		f.oidcProviders = []string{bad}
		if _, err := f.config(); err == nil {
			t.Errorf("--oidc-provider %s accepted", bad)
		}
	}
}
