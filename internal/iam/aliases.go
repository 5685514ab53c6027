package iam

import (
	"context"
	"errors"
	"strings"

	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// validAlias applies IAM's alias rule: 3 to 63 lower-case letters, digits
// and single hyphens, starting and ending with a letter or digit.
func validAlias(alias string) error {
	ok := len(alias) >= 3 && len(alias) <= 63 && !strings.Contains(alias, "--") &&
		alias[0] != '-' && alias[len(alias)-1] != '-'
	for _, c := range alias {
		ok = ok && (c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-')
	}
	if !ok {
		return validation("1 validation error detected: Value '%s' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$", alias)
	}
	return nil
}

// CreateAccountAlias gives the account its alias, replacing the one it had;
// aliases are unique across accounts.
func (s *Service) CreateAccountAlias(ctx context.Context, in *iamapi.CreateAccountAliasRequest) (*iamapi.CreateAccountAliasOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	alias := deref(in.AccountAlias)
	if err := validAlias(alias); err != nil {
		return nil, err
	}
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		old, err := tx.AccountAlias(ctx, p.AccountID)
		switch {
		case err == nil && old == alias:
			return nil
		case err == nil:
			if err := tx.DeleteAccountAlias(ctx, p.AccountID, old); err != nil {
				return err
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := tx.InsertAccountAlias(ctx, p.AccountID, alias); errors.Is(err, store.ErrConflict) {
			return alreadyExists("The account alias %s already exists.", alias)
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateAccountAliasOutput{}, nil
}

// DeleteAccountAlias removes the account's alias.
func (s *Service) DeleteAccountAlias(ctx context.Context, in *iamapi.DeleteAccountAliasRequest) (*iamapi.DeleteAccountAliasOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	alias := deref(in.AccountAlias)
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.DeleteAccountAlias(ctx, p.AccountID, alias); errors.Is(err, store.ErrNotFound) {
			return noSuchEntity("The account alias %s cannot be found.", alias)
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteAccountAliasOutput{}, nil
}

// ListAccountAliases lists the account's alias (an account has one at most).
func (s *Service) ListAccountAliases(ctx context.Context, in *iamapi.ListAccountAliasesRequest) (*iamapi.ListAccountAliasesResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var aliases []string
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		alias, err := tx.AccountAlias(ctx, p.AccountID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		aliases = append(aliases, alias)
		return err
	})
	if err != nil {
		return nil, err
	}
	page, marker, err := pageByMarker(aliases, func(a string) string { return a }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListAccountAliasesResponse{AccountAliases: append([]string{}, page...), IsTruncated: ptr(marker != nil), Marker: marker}, nil
}
