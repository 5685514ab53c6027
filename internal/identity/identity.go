// Package identity owns accounts (teams), IAM users and access keys: it
// creates them, seals their secrets, and resolves an access key id to the
// principal that signs a request.
package identity

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/secrets"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Key statuses, as IAM names them.
const (
	StatusActive   = "Active"
	StatusInactive = "Inactive"
)

// MaxKeysPerOwner is IAM's limit of access keys per user (and root).
const MaxKeysPerOwner = 2

var (
	// ErrInvalidName: an account or user name is not acceptable.
	ErrInvalidName = errors.New("invalid name")
	// ErrKeyLimit: the owner already has MaxKeysPerOwner keys.
	ErrKeyLimit = errors.New("access key limit exceeded")
	// ErrUnknownKey: no active access key has that id.
	ErrUnknownKey = errors.New("unknown access key")
)

// Principal is who signed a request.
type Principal struct {
	AccountID   string
	UserName    string // "" for the account's root and for role sessions
	UserID      string // for a role session: the role's id and the session name, "AROA…:name", as AWS's aws:userid
	AccessKeyID string

	// Temporary credentials (STS) carry the session they belong to.
	Temporary bool
	// RoleName and SessionName name an assumed-role session (AssumeRole,
	// AssumeRoleWithWebIdentity, an instance profile, a directory login).
	RoleName    string
	SessionName string
	// SessionPolicy is the session policy document given when the
	// session was made ("" : none); it narrows what the session may do.
	SessionPolicy string
	// SessionTags are the session's tags (aws:PrincipalTag/…).
	SessionTags map[string]string
	Expires     time.Time // when temporary credentials end
}

// IsRoot reports whether the account's root credentials were used (a
// root's GetSessionToken session included).
func (p Principal) IsRoot() bool { return p.UserName == "" && p.RoleName == "" }

// IsRoleSession reports whether the caller is an assumed-role session.
func (p Principal) IsRoleSession() bool { return p.RoleName != "" }

// ARN is the principal's ARN as STS GetCallerIdentity reports it.
func (p Principal) ARN() string {
	switch {
	case p.IsRoleSession():
		return "arn:aws:sts::" + p.AccountID + ":assumed-role/" + p.RoleName + "/" + p.SessionName
	case p.IsRoot():
		return "arn:aws:iam::" + p.AccountID + ":root"
	}
	return "arn:aws:iam::" + p.AccountID + ":user/" + p.UserName
}

type principalKey struct{}

// WithPrincipal stores the caller in ctx.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the caller stored by WithPrincipal.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Service manages identities in the store.
type Service struct {
	DB  *store.DB
	Box *secrets.Box
}

// NewKey is a freshly made access key, the only time its secret is shown.
type NewKey struct {
	store.AccessKey
	Secret string
}

var accountName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$`)

// CreateAccount makes a team account with one root access key.
func (s *Service) CreateAccount(ctx context.Context, name string) (store.Account, NewKey, error) {
	if !accountName.MatchString(name) {
		return store.Account{}, NewKey{}, fmt.Errorf("account name %q: use 1-64 letters, digits, '.', '_' or '-': %w", name, ErrInvalidName)
	}
	var acct store.Account
	var key NewKey
	err := s.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		acct, err = insertAccountWithFreshID(ctx, tx, name)
		if err != nil {
			return err
		}
		key, err = s.insertKey(ctx, tx, acct.ID, "")
		return err
	})
	if err != nil {
		return store.Account{}, NewKey{}, fmt.Errorf("create account %s: %w", name, err)
	}
	return acct, key, nil
}

func insertAccountWithFreshID(ctx context.Context, tx *store.Tx, name string) (store.Account, error) {
	if _, err := tx.FindAccount(ctx, name); err == nil {
		return store.Account{}, fmt.Errorf("account name %s: %w", name, store.ErrConflict)
	}
	for attempt := 0; attempt < 5; attempt++ {
		acct := store.Account{ID: ids.Account(), Name: name, CreatedAt: time.Now().UTC()}
		if _, err := tx.GetAccount(ctx, acct.ID); errors.Is(err, store.ErrNotFound) {
			return acct, tx.InsertAccount(ctx, acct)
		}
	}
	return store.Account{}, errors.New("could not draw an unused account id")
}

// CreateAccessKey adds a key for an owner (” = root), at most MaxKeysPerOwner.
func (s *Service) CreateAccessKey(ctx context.Context, accountID, userName string) (NewKey, error) {
	var key NewKey
	err := s.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.LockAccount(ctx, accountID); err != nil {
			return err
		}
		existing, err := tx.ListAccessKeys(ctx, accountID, userName)
		if err != nil {
			return err
		}
		if len(existing) >= MaxKeysPerOwner {
			return ErrKeyLimit
		}
		key, err = s.insertKey(ctx, tx, accountID, userName)
		return err
	})
	return key, err
}

// ResetAccessKeys revokes every key of an owner (” = root) and makes it
// one new key, in one transaction: the old keys stop working when the new
// one exists. The user must exist (store.ErrNotFound otherwise).
func (s *Service) ResetAccessKeys(ctx context.Context, accountID, userName string) (NewKey, error) {
	var key NewKey
	err := s.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.LockAccount(ctx, accountID); err != nil {
			return err
		}
		if userName != "" {
			if _, err := tx.GetUser(ctx, accountID, userName); err != nil {
				return fmt.Errorf("user %s: %w", userName, err)
			}
		}
		if err := tx.DeleteAccessKeys(ctx, accountID, userName); err != nil {
			return err
		}
		var err error
		key, err = s.insertKey(ctx, tx, accountID, userName)
		return err
	})
	if err != nil {
		return NewKey{}, fmt.Errorf("reset the keys of %q in %s: %w", userName, accountID, err)
	}
	return key, nil
}

func (s *Service) insertKey(ctx context.Context, tx *store.Tx, accountID, userName string) (NewKey, error) {
	secret := ids.SecretAccessKey()
	k := store.AccessKey{ID: ids.AccessKeyID(), AccountID: accountID, UserName: userName, Status: StatusActive, CreatedAt: time.Now().UTC()}
	sealed, err := s.Box.Seal(secret, k.ID)
	if err != nil {
		return NewKey{}, err
	}
	k.SecretEnc = sealed
	if err := tx.InsertAccessKey(ctx, k); err != nil {
		return NewKey{}, err
	}
	return NewKey{AccessKey: k, Secret: secret}, nil
}

// Resolve returns the secret and principal of an active access key.
func (s *Service) Resolve(ctx context.Context, accessKeyID string) (string, Principal, error) {
	var k store.AccessKey
	var user store.User
	err := s.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		k, err = tx.GetAccessKey(ctx, accessKeyID)
		if err != nil || k.UserName == "" {
			return err
		}
		user, err = tx.GetUser(ctx, k.AccountID, k.UserName)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.Status != StatusActive) {
		return "", Principal{}, fmt.Errorf("access key %s: %w", accessKeyID, ErrUnknownKey)
	}
	if err != nil {
		return "", Principal{}, fmt.Errorf("resolve access key %s: %w", accessKeyID, err)
	}
	secret, err := s.Box.Open(k.SecretEnc, k.ID)
	if err != nil {
		return "", Principal{}, fmt.Errorf("resolve access key %s: %w", accessKeyID, err)
	}
	p := Principal{AccountID: k.AccountID, UserName: user.Name, UserID: user.UserID, AccessKeyID: k.ID}
	if k.UserName == "" {
		p.UserID = k.AccountID
	}
	return secret, p, nil
}

// SystemAccountName names the account that owns what the operator
// registers for everyone (the demo image, kernels and ramdisks). It has no
// access keys, so nobody signs requests as it.
const SystemAccountName = "kumo-system"

// SystemAccount returns the system account, creating it on first use.
func (s *Service) SystemAccount(ctx context.Context) (store.Account, error) {
	var acct store.Account
	err := s.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		acct, err = tx.FindAccount(ctx, SystemAccountName)
		if errors.Is(err, store.ErrNotFound) {
			acct, err = insertAccountWithFreshID(ctx, tx, SystemAccountName)
		}
		return err
	})
	if err != nil {
		return acct, fmt.Errorf("system account: %w", err)
	}
	return acct, nil
}
