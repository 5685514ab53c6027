package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/kumo-cloud/kumo/internal/sigv4"
)

// RequestCredentials resolves the credentials of one request for
// sigv4.Verifier (set Lookup and SessionToken to its methods): long-term
// access keys from the store, temporary ones from their session token,
// which the verifier checks first. Principal is the signer once Lookup
// has run.
type RequestCredentials struct {
	identity  *Service
	Principal Principal
	// sessionSecret is the secret sealed in the request's session token.
	sessionSecret string
	sessionKey    string
}

// SessionToken is a sigv4.Verifier SessionToken function.
func (c *RequestCredentials) SessionToken(ctx context.Context, keyID, token string) error {
	secret, p, err := c.identity.ResolveSession(ctx, keyID, token)
	switch {
	case errors.Is(err, ErrExpiredToken):
		return fmt.Errorf("%w: %w", sigv4.ErrExpiredSessionToken, err)
	case errors.Is(err, ErrInvalidToken):
		return fmt.Errorf("%w: %w", sigv4.ErrInvalidSessionToken, err)
	case err != nil:
		return err
	}
	c.Principal, c.sessionSecret, c.sessionKey = p, secret, keyID
	return nil
}

// Lookup is a sigv4.Verifier Lookup function.
func (c *RequestCredentials) Lookup(ctx context.Context, keyID string) (string, error) {
	if c.sessionKey != "" && keyID == c.sessionKey {
		return c.sessionSecret, nil
	}
	secret, p, err := c.identity.Resolve(ctx, keyID)
	if errors.Is(err, ErrUnknownKey) {
		return "", fmt.Errorf("%w: %w", sigv4.ErrUnknownAccessKey, err)
	}
	c.Principal = p
	return secret, err
}

// Credentials returns a resolver for one request's credentials.
func (s *Service) Credentials() *RequestCredentials { return &RequestCredentials{identity: s} }
