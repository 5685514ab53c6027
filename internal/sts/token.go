// Package sts issues and resolves temporary credentials (access key ids
// starting ASIA with a session token) and serves the STS API.
//
// A session token is self-contained: the session (its secret, who it is,
// its session policy and tags, its expiry) sealed with the server's
// secrets.Box and bound to its access key id. Issuing one writes nothing
// to the database, so instance-profile rotation and directory logins cost
// no rows and need no clean-up of expired sessions, and any controller
// holding the same key file resolves the token. What a stored session
// would add, revoking one session, AWS does not offer either: its answer
// is a deny policy on the role; here deleting the role (or user) also
// ends its sessions, because resolving a token checks that it still
// exists with the same unique id.
package sts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/secrets"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Credentials are temporary credentials, as STS returns them.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
}

// Service issues temporary credentials and serves the STS actions.
type Service struct {
	DB  *store.DB
	Box *secrets.Box
	// IAM gathers the caller's identity policies for AssumeRole.
	IAM PolicySource
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Decode opens an encoded authorization failure message
	// (internal/authz.Decode); nil answers Unsupported.
	Decode func(encoded string) (string, error)
	// oidc are the trusted OpenID Connect issuers (SetOIDCProviders).
	oidc atomic.Pointer[[]OIDCProvider]
}

// session is what a token seals. Short JSON names keep tokens short.
type session struct {
	Secret  string            `json:"s"`
	Account string            `json:"a"`
	User    string            `json:"u,omitempty"`
	UserID  string            `json:"i"`
	Role    string            `json:"r,omitempty"`
	RoleID  string            `json:"ri,omitempty"`
	Name    string            `json:"n,omitempty"`
	Policy  string            `json:"p,omitempty"`
	Tags    map[string]string `json:"t,omitempty"`
	Expires int64             `json:"e"`
}

// tokenPrefix marks Kumo's tokens (and their format version).
const tokenPrefix = "KUMO1"

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// label binds a sealed session to its access key id, and keeps sealed
// sessions apart from sealed access-key secrets.
func label(accessKeyID string) string { return "sts-session:" + accessKeyID }

// temporaryKeyID is an ASIA… id, as STS's temporary access keys are.
func temporaryKeyID() string { return "ASIA" + strings.TrimPrefix(ids.AccessKeyID(), "AKIA") }

// issue makes credentials for a session valid for d.
func (s *Service) issue(ses session, d time.Duration) (Credentials, error) {
	expires := s.now().Add(d).Truncate(time.Second)
	ses.Secret = ids.SecretAccessKey()
	ses.Expires = expires.Unix()
	raw, err := json.Marshal(ses)
	if err != nil {
		return Credentials{}, fmt.Errorf("issue session: %w", err)
	}
	keyID := temporaryKeyID()
	sealed, err := s.Box.Seal(string(raw), label(keyID))
	if err != nil {
		return Credentials{}, fmt.Errorf("issue session: %w", err)
	}
	return Credentials{AccessKeyID: keyID, SecretAccessKey: ses.Secret, SessionToken: tokenPrefix + sealed, Expiration: expires}, nil
}

// open returns the session a token seals for accessKeyID.
func (s *Service) open(accessKeyID, token string) (session, error) {
	var ses session
	if !strings.HasPrefix(accessKeyID, "ASIA") || !strings.HasPrefix(token, tokenPrefix) {
		return ses, fmt.Errorf("access key %s: not a Kumo session token: %w", accessKeyID, identity.ErrInvalidToken)
	}
	plain, err := s.Box.Open(strings.TrimPrefix(token, tokenPrefix), label(accessKeyID))
	if err != nil {
		return ses, fmt.Errorf("access key %s: %w: %w", accessKeyID, identity.ErrInvalidToken, err)
	}
	if err := json.Unmarshal([]byte(plain), &ses); err != nil {
		return ses, fmt.Errorf("access key %s: %w: %w", accessKeyID, identity.ErrInvalidToken, err)
	}
	return ses, nil
}

// ResolveSession implements identity.SessionResolver.
func (s *Service) ResolveSession(ctx context.Context, accessKeyID, token string) (string, identity.Principal, error) {
	ses, err := s.open(accessKeyID, token)
	if err != nil {
		return "", identity.Principal{}, err
	}
	expires := time.Unix(ses.Expires, 0).UTC()
	if !s.now().Before(expires) {
		return "", identity.Principal{}, fmt.Errorf("access key %s expired at %s: %w", accessKeyID, expires.Format(time.RFC3339), identity.ErrExpiredToken)
	}
	if err := s.stillExists(ctx, ses); err != nil {
		return "", identity.Principal{}, fmt.Errorf("access key %s: %w", accessKeyID, err)
	}
	p := identity.Principal{AccountID: ses.Account, UserName: ses.User, UserID: ses.UserID, AccessKeyID: accessKeyID,
		Temporary: true, RoleName: ses.Role, SessionName: ses.Name, SessionPolicy: ses.Policy, SessionTags: ses.Tags, Expires: expires}
	return ses.Secret, p, nil
}

// stillExists checks that the session's account, user or role has not
// been deleted (or deleted and made again under the same name) since.
func (s *Service) stillExists(ctx context.Context, ses session) error {
	return s.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		var id string
		switch {
		case ses.Role != "":
			var r store.Role
			r, err = tx.GetRole(ctx, ses.Account, ses.Role)
			id = r.RoleID
			if id != ses.RoleID {
				id = ""
			}
		case ses.User != "":
			var u store.User
			u, err = tx.GetUser(ctx, ses.Account, ses.User)
			if u.UserID == ses.UserID {
				id = u.UserID
			}
		default:
			_, err = tx.GetAccount(ctx, ses.Account)
			id = ses.Account
		}
		if errors.Is(err, store.ErrNotFound) || (err == nil && id == "") {
			return fmt.Errorf("the session's principal no longer exists: %w", identity.ErrInvalidToken)
		}
		return err
	})
}
