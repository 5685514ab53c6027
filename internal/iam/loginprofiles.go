package iam

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/iam/password"
	"github.com/kumo-cloud/kumo/internal/store"
)

// checkPassword applies IAM's default password policy (an account without
// a custom policy): 8 to 128 characters, from at least three of upper
// case, lower case, digits and symbols, and not the user's name.
func checkPassword(pw, userName string) error {
	n := utf8.RuneCountInString(pw)
	if n > 128 {
		return validation("1 validation error detected: Value at 'password' failed to satisfy constraint: Member must have length less than or equal to 128")
	}
	var upper, lower, digit, symbol int
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			symbol = 1
		}
	}
	if n < 8 || upper+lower+digit+symbol < 3 || strings.EqualFold(pw, userName) {
		return awsapi.NewError("PasswordPolicyViolation", http.StatusBadRequest,
			"Password should have a minimum length of 8, include a minimum of three of the following mix of character types: uppercase, lowercase, numbers, non-alphanumeric symbols, and must not be identical to your AWS account name or email address.")
	}
	return nil
}

func noSuchLoginProfile(user string) error {
	return noSuchEntity("Login Profile for User %s cannot be found.", user)
}

func apiLoginProfile(name string, lp store.LoginProfile) *iamapi.LoginProfile {
	return &iamapi.LoginProfile{UserName: ptr(name), CreateDate: ptr(lp.CreatedAt), PasswordResetRequired: ptr(lp.ResetRequired)}
}

// CreateLoginProfile gives a user a console password, stored as an argon2id hash.
func (s *Service) CreateLoginProfile(ctx context.Context, in *iamapi.CreateLoginProfileRequest) (*iamapi.CreateLoginProfileResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name, pw := deref(in.UserName), deref(in.Password)
	if err := checkPassword(pw, name); err != nil {
		return nil, err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return nil, err
	}
	var out *iamapi.LoginProfile
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, err := findUser(ctx, tx, p.AccountID, name)
		if err != nil {
			return err
		}
		lp := store.LoginProfile{AccountID: p.AccountID, UserID: u.UserID, PasswordHash: hash, ResetRequired: flag(in.PasswordResetRequired), CreatedAt: nowMillis()}
		if err := tx.InsertLoginProfile(ctx, lp); errors.Is(err, store.ErrConflict) {
			return alreadyExists("Login Profile for user %s already exists.", u.Name)
		} else if err != nil {
			return err
		}
		out = apiLoginProfile(u.Name, lp)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateLoginProfileResponse{LoginProfile: out}, nil
}

// loginProfile loads a user (the caller when name is empty) and its profile.
func loginProfile(ctx context.Context, tx *store.Tx, account, name string) (store.User, store.LoginProfile, error) {
	u, err := findUser(ctx, tx, account, name)
	if err != nil {
		return u, store.LoginProfile{}, err
	}
	lp, err := tx.GetLoginProfile(ctx, u.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return u, lp, noSuchLoginProfile(u.Name)
	}
	return u, lp, err
}

// GetLoginProfile tells whether a user has a password (never the password).
func (s *Service) GetLoginProfile(ctx context.Context, in *iamapi.GetLoginProfileRequest) (*iamapi.GetLoginProfileResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name := deref(in.UserName)
	if name == "" {
		name = p.UserName
	}
	var out *iamapi.LoginProfile
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, lp, err := loginProfile(ctx, tx, p.AccountID, name)
		out = apiLoginProfile(u.Name, lp)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetLoginProfileResponse{LoginProfile: out}, nil
}

// UpdateLoginProfile changes a user's password or its reset flag.
func (s *Service) UpdateLoginProfile(ctx context.Context, in *iamapi.UpdateLoginProfileRequest) (*iamapi.UpdateLoginProfileOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var hash string
	if in.Password != nil {
		if err := checkPassword(*in.Password, deref(in.UserName)); err != nil {
			return nil, err
		}
		if hash, err = password.Hash(*in.Password); err != nil {
			return nil, err
		}
	}
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, lp, err := loginProfile(ctx, tx, p.AccountID, deref(in.UserName))
		if err != nil {
			return err
		}
		if hash != "" {
			lp.PasswordHash = hash
		}
		if in.PasswordResetRequired != nil {
			lp.ResetRequired = *in.PasswordResetRequired
		}
		return tx.UpdateLoginProfile(ctx, lp)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateLoginProfileOutput{}, nil
}

// DeleteLoginProfile removes a user's password.
func (s *Service) DeleteLoginProfile(ctx context.Context, in *iamapi.DeleteLoginProfileRequest) (*iamapi.DeleteLoginProfileOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		u, _, err := loginProfile(ctx, tx, p.AccountID, deref(in.UserName))
		if err != nil {
			return err
		}
		return tx.DeleteLoginProfile(ctx, u.UserID)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteLoginProfileOutput{}, nil
}

// CheckPassword reports whether a user's console password is password:
// false, nil when the user or its login profile does not exist.
func (s *Service) CheckPassword(ctx context.Context, accountID, userName, pw string) (bool, error) {
	var lp store.LoginProfile
	err := s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		_, lp, err = loginProfile(ctx, tx, accountID, userName)
		return err
	})
	var ae *awsapi.Error
	if errors.As(err, &ae) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return password.Verify(pw, lp.PasswordHash)
}
