// Package iam implements the IAM and STS actions Kumo offers so far: users,
// access keys and GetCallerIdentity. Until groups and policies arrive, every
// principal of an account may manage that account's identities.
package iam

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/iamapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/stsapi"
	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Service answers IAM actions.
type Service struct {
	Identity *identity.Service
}

var _ iamapi.Service = (*Service)(nil)

// STS answers STS actions.
type STS struct{}

var _ stsapi.Service = STS{}

func noSuchEntity(format string, args ...any) error {
	return awsapi.NewError("NoSuchEntity", http.StatusNotFound, format, args...)
}

func validation(format string, args ...any) error {
	return awsapi.NewError("ValidationError", http.StatusBadRequest, format, args...)
}

func caller(ctx context.Context) (identity.Principal, error) {
	p, ok := identity.FromContext(ctx)
	if !ok {
		return p, errors.New("iam: no principal in context")
	}
	return p, nil
}

var (
	userNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	pathPattern     = regexp.MustCompile(`^/([\x21-\x7e]{0,510}/)?$`)
)

func userARN(account, path, name string) string {
	return "arn:aws:iam::" + account + ":user" + path + name
}

func apiUser(u store.User, tags []store.Tag) *iamapi.User {
	out := &iamapi.User{Path: &u.Path, UserName: &u.Name, UserId: &u.UserID, Arn: ptr(userARN(u.AccountID, u.Path, u.Name)), CreateDate: &u.CreatedAt,
		PermissionsBoundary: apiBoundary(u.PermissionsBoundary)}
	for _, t := range tags {
		out.Tags = append(out.Tags, iamapi.Tag{Key: ptr(t.Key), Value: ptr(t.Value)})
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// CreateUser adds an IAM user to the caller's account.
func (s *Service) CreateUser(ctx context.Context, in *iamapi.CreateUserRequest) (*iamapi.CreateUserResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name, path := deref(in.UserName), deref(in.Path)
	if path == "" {
		path = "/"
	}
	if err := validateUser(name, path, in.Tags); err != nil {
		return nil, err
	}
	u := store.User{AccountID: p.AccountID, UserID: ids.UserID(), Name: name, Path: path, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	var tags []store.Tag
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if boundary := deref(in.PermissionsBoundary); boundary != "" {
			m, err := findPolicy(ctx, tx, p.AccountID, boundary)
			if err != nil {
				return err
			}
			u.PermissionsBoundary = m.ARN
		}
		if err := tx.InsertUser(ctx, u); errors.Is(err, store.ErrConflict) {
			return awsapi.NewError("EntityAlreadyExists", http.StatusConflict, "User with name %s already exists.", name)
		} else if err != nil {
			return err
		}
		for _, t := range in.Tags {
			row := store.Tag{AccountID: p.AccountID, ResourceID: u.UserID, ResourceType: "iam-user", Key: deref(t.Key), Value: deref(t.Value)}
			if err := tx.PutTag(ctx, row); err != nil {
				return err
			}
			tags = append(tags, row)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create user %s: %w", name, err)
	}
	return &iamapi.CreateUserResponse{User: apiUser(u, tags)}, nil
}

func validateUser(name, path string, tags []iamapi.Tag) error {
	if !userNamePattern.MatchString(name) {
		return validation("1 validation error detected: Value '%s' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and 64", name)
	}
	if !pathPattern.MatchString(path) {
		return validation("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	if len(tags) > 50 {
		return awsapi.NewError("LimitExceeded", http.StatusConflict, "Cannot exceed quota for TagsPerUser: 50")
	}
	return nil
}

// userTags returns the tags of one user.
func userTags(ctx context.Context, tx *store.Tx, account, userID string) ([]store.Tag, error) {
	byRes, err := tx.TagsByResource(ctx, account, "iam-user")
	return byRes[userID], err
}

// GetUser returns the named user, or the caller when no name is given.
func (s *Service) GetUser(ctx context.Context, in *iamapi.GetUserRequest) (*iamapi.GetUserResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name := deref(in.UserName)
	if name == "" && p.IsRoot() {
		var acct store.Account
		err := s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
			acct, err = tx.GetAccount(ctx, p.AccountID)
			return err
		})
		if err != nil {
			return nil, err
		}
		return &iamapi.GetUserResponse{User: &iamapi.User{UserId: ptr(p.AccountID), Arn: ptr(p.ARN()), CreateDate: &acct.CreatedAt}}, nil
	}
	if name == "" {
		name = p.UserName
	}
	var u store.User
	var tags []store.Tag
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		if u, err = tx.GetUser(ctx, p.AccountID, name); err != nil {
			return err
		}
		tags, err = userTags(ctx, tx, p.AccountID, u.UserID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, noSuchEntity("The user with name %s cannot be found.", name)
	}
	if err != nil {
		return nil, err
	}
	return &iamapi.GetUserResponse{User: apiUser(u, tags)}, nil
}

// ListUsers pages through the account's users by name.
func (s *Service) ListUsers(ctx context.Context, in *iamapi.ListUsersRequest) (*iamapi.ListUsersResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	prefix := deref(in.PathPrefix)
	if prefix == "" {
		prefix = "/"
	}
	var users []store.User
	err = s.Identity.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		users, err = tx.ListUsers(ctx, p.AccountID, prefix)
		return err
	})
	if err != nil {
		return nil, err
	}
	page, marker, err := pageByMarker(users, func(u store.User) string { return u.Name }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListUsersResponse{Users: []iamapi.User{}, IsTruncated: ptr(marker != nil), Marker: marker}
	for _, u := range page {
		u.PermissionsBoundary = "" // IAM lists users without their boundaries
		out.Users = append(out.Users, *apiUser(u, nil))
	}
	return out, nil
}

// DeleteUser removes a user that has no access keys, password, groups or
// policies left, as IAM refuses to delete one that has.
func (s *Service) DeleteUser(ctx context.Context, in *iamapi.DeleteUserRequest) (*iamapi.DeleteUserOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name := deref(in.UserName)
	err = s.Identity.DB.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.LockAccount(ctx, p.AccountID); err != nil {
			return err
		}
		u, err := tx.GetUser(ctx, p.AccountID, name)
		if errors.Is(err, store.ErrNotFound) {
			return noSuchEntity("The user with name %s cannot be found.", name)
		} else if err != nil {
			return err
		}
		keys, err := tx.ListAccessKeys(ctx, p.AccountID, u.Name)
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			return deleteConflict("Cannot delete entity, must delete access keys first.")
		}
		if err := refuseUserDependents(ctx, tx, u); err != nil {
			return err
		}
		if err := tx.DeleteAllTags(ctx, p.AccountID, u.UserID); err != nil {
			return err
		}
		return tx.DeleteUser(ctx, p.AccountID, u.Name)
	})
	return &iamapi.DeleteUserOutput{}, err
}

// refuseUserDependents answers DeleteConflict while a user still has a
// login profile, group memberships or policies.
func refuseUserDependents(ctx context.Context, tx *store.Tx, u store.User) error {
	if _, err := tx.GetLoginProfile(ctx, u.UserID); err == nil {
		return deleteConflict("Cannot delete entity, must delete login profile first.")
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	groups, err := tx.GroupsOfUser(ctx, u.UserID)
	if err != nil {
		return err
	}
	if len(groups) > 0 {
		return deleteConflict("Cannot delete entity, must remove users from group first.")
	}
	return refusePolicies(ctx, tx, u.UserID)
}

// GetCallerIdentity tells who signed the request.
func (STS) GetCallerIdentity(ctx context.Context, _ *stsapi.GetCallerIdentityRequest) (*stsapi.GetCallerIdentityResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return &stsapi.GetCallerIdentityResponse{UserId: ptr(p.UserID), Account: ptr(p.AccountID), Arn: ptr(p.ARN())}, nil
}
