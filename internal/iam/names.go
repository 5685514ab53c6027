package iam

import (
	"context"
	"errors"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/kumo-cloud/kumo/internal/store"
)

// IAM's name lengths (the characters are [\w+=,.@-] for all of them).
const (
	maxUserName     = 64
	maxRoleName     = 64
	maxGroupName    = 128
	maxPolicyName   = 128
	maxProfileName  = 128
	maxDescription  = 1000
	maxTagsPerThing = 50
)

// namePattern is the characters of IAM names; lengths differ by kind.
var namePattern = regexp.MustCompile(`^[\w+=,.@-]+$`)

// validName checks a name parameter as IAM's model constrains it; field is
// the parameter's name in lowerCamelCase, as IAM's messages spell it.
func validName(field, value string, max int) error {
	if !namePattern.MatchString(value) || utf8.RuneCountInString(value) > max {
		return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and %d", value, field, max)
	}
	return nil
}

// validPath checks a Path parameter ("" means "/").
func validPath(path string) (string, error) {
	if path == "" {
		return "/", nil
	}
	if !pathPattern.MatchString(path) {
		return "", validation("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return path, nil
}

// validPathPrefix defaults a PathPrefix parameter to "/".
func validPathPrefix(prefix *string) (string, error) {
	p := deref(prefix)
	if p == "" {
		return "/", nil
	}
	if p[0] != '/' || len(p) > 512 {
		return "", validation("The specified value for pathPrefix is invalid. It must begin with / and contain only alphanumeric characters and/or / characters.")
	}
	return p, nil
}

func arn(account, kind, path, name string) string {
	return "arn:aws:iam::" + account + ":" + kind + path + name
}

func nowMillis() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// findUser loads a user by name or answers NoSuchEntity.
func findUser(ctx context.Context, tx *store.Tx, account, name string) (store.User, error) {
	u, err := tx.GetUser(ctx, account, name)
	if errors.Is(err, store.ErrNotFound) {
		return u, noSuchUser(name)
	}
	return u, err
}

// findGroup loads a group by name or answers NoSuchEntity.
func findGroup(ctx context.Context, tx *store.Tx, account, name string) (store.Group, error) {
	g, err := tx.GetGroup(ctx, account, name)
	if errors.Is(err, store.ErrNotFound) {
		return g, noSuchGroup(name)
	}
	return g, err
}

// findRole loads a role by name or answers NoSuchEntity.
func findRole(ctx context.Context, tx *store.Tx, account, name string) (store.Role, error) {
	r, err := tx.GetRole(ctx, account, name)
	if errors.Is(err, store.ErrNotFound) {
		return r, noSuchRole(name)
	}
	return r, err
}
