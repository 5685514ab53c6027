package sts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// Session durations, as AWS bounds them.
const (
	MinDuration            = 15 * time.Minute
	DefaultRoleDuration    = time.Hour
	DefaultSessionDuration = 12 * time.Hour
	MaxSessionTokenSeconds = 129600 // GetSessionToken: 36 hours
	RootSessionTokenMax    = time.Hour
	RoleChainingMax        = time.Hour
	maxSessionTags         = 50
)

var sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// tagPattern is the set of characters IAM allows in tag keys and values.
var tagPattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

func validationError(format string, args ...any) error {
	return awsapi.NewError("ValidationError", http.StatusBadRequest, format, args...)
}

func checkSessionName(name string) error {
	if !sessionNamePattern.MatchString(name) {
		return validationError("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64", name)
	}
	return nil
}

func checkTags(tags map[string]string) error {
	if len(tags) > maxSessionTags {
		return validationError("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", maxSessionTags)
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 || !tagPattern.MatchString(k) {
			return validationError("1 validation error detected: Value '%s' at 'tags.key' failed to satisfy constraint: Member must have length between 1 and 128 and satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", k)
		}
		if len(v) > 256 || !tagPattern.MatchString(v) {
			return validationError("1 validation error detected: Value '%s' at 'tags.value' failed to satisfy constraint: Member must have length less than or equal to 256 and satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*", v)
		}
	}
	return nil
}

// roleDuration checks a requested session length against the role's
// MaxSessionDuration; zero means AWS's default of one hour.
func roleDuration(d time.Duration, role store.Role) (time.Duration, error) {
	if d == 0 {
		d = DefaultRoleDuration
	}
	if d < MinDuration {
		return 0, validationError("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", int(d.Seconds()))
	}
	if max := time.Duration(role.MaxSessionDuration) * time.Second; role.MaxSessionDuration > 0 && d > max {
		return 0, validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	return d, nil
}

// IssueRoleSession makes credentials for a session of a role with no
// session policy, for callers the server has already authenticated
// another way (a directory login, an instance profile): the role's trust
// policy is not evaluated. duration zero means one hour; it may not
// exceed the role's MaxSessionDuration.
func (s *Service) IssueRoleSession(ctx context.Context, accountID, roleName, sessionName string, duration time.Duration, tags map[string]string) (Credentials, error) {
	if err := checkSessionName(sessionName); err != nil {
		return Credentials{}, err
	}
	if err := checkTags(tags); err != nil {
		return Credentials{}, err
	}
	role, err := s.role(ctx, accountID, roleName)
	if err != nil {
		return Credentials{}, fmt.Errorf("issue a session of role %s in %s: %w", roleName, accountID, err)
	}
	d, err := roleDuration(duration, role)
	if err != nil {
		return Credentials{}, err
	}
	return s.issue(roleSession(role, sessionName, "", tags), d)
}

func roleSession(role store.Role, sessionName, policy string, tags map[string]string) session {
	return session{Account: role.AccountID, Role: role.Name, RoleID: role.RoleID, Name: sessionName,
		UserID: role.RoleID + ":" + sessionName, Policy: policy, Tags: tags}
}

// role reads a role; store.ErrNotFound when it does not exist.
func (s *Service) role(ctx context.Context, accountID, name string) (store.Role, error) {
	var r store.Role
	err := s.DB.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
		r, err = tx.GetRole(ctx, accountID, name)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return r, fmt.Errorf("read role %s: %w", name, err)
	}
	return r, err
}
