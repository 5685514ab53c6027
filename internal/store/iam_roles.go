package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Role is an IAM role: an identity that principals its trust policy names
// may assume.
type Role struct {
	AccountID           string
	RoleID              string
	Name                string
	Path                string
	Description         string
	TrustPolicy         string // the assume-role policy document, as written
	MaxSessionDuration  int    // seconds
	PermissionsBoundary string // "" or a managed policy ARN
	CreatedAt           time.Time
}

// InsertRole stores a role; ErrConflict when the name exists (case-insensitively).
func (tx *Tx) InsertRole(ctx context.Context, r Role) error {
	_, err := tx.exec(ctx, `INSERT INTO iam_roles (account_id, role_id, name, name_key, path, description, trust_policy, max_session_duration, permissions_boundary, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		r.AccountID, r.RoleID, r.Name, strings.ToLower(r.Name), r.Path, r.Description, r.TrustPolicy, r.MaxSessionDuration, r.PermissionsBoundary, r.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert role %s: %w", r.Name, err)
	}
	return nil
}

const roleColumns = `r.account_id, r.role_id, r.name, r.path, r.description, r.trust_policy, r.max_session_duration, r.permissions_boundary, r.created_at`

func scanRole(s interface{ Scan(...any) error }) (Role, error) {
	var r Role
	var created int64
	err := s.Scan(&r.AccountID, &r.RoleID, &r.Name, &r.Path, &r.Description, &r.TrustPolicy, &r.MaxSessionDuration, &r.PermissionsBoundary, &created)
	r.CreatedAt = Millis(created)
	return r, err
}

// GetRole finds a role by name (case-insensitively).
func (tx *Tx) GetRole(ctx context.Context, accountID, name string) (Role, error) {
	row := tx.q.QueryRowContext(ctx, `SELECT `+roleColumns+` FROM iam_roles r WHERE r.account_id = $1 AND r.name_key = $2`, accountID, strings.ToLower(name))
	r, err := scanRole(row)
	if err == sql.ErrNoRows {
		return r, ErrNotFound
	}
	return r, classify(err)
}

// ListRoles returns an account's roles whose path starts with pathPrefix, by name.
func (tx *Tx) ListRoles(ctx context.Context, accountID, pathPrefix string) ([]Role, error) {
	var out []Role
	err := tx.queryRows(ctx, func(rows *sql.Rows) error {
		r, err := scanRole(rows)
		if strings.HasPrefix(r.Path, pathPrefix) {
			out = append(out, r)
		}
		return err
	}, `SELECT `+roleColumns+` FROM iam_roles r WHERE r.account_id = $1 ORDER BY r.name_key`, accountID)
	return out, err
}

// UpdateRole writes a role's mutable fields: description, trust policy,
// maximum session duration and permissions boundary.
func (tx *Tx) UpdateRole(ctx context.Context, r Role) error {
	return tx.execOne(ctx, `UPDATE iam_roles SET description = $1, trust_policy = $2, max_session_duration = $3, permissions_boundary = $4 WHERE role_id = $5`,
		r.Description, r.TrustPolicy, r.MaxSessionDuration, r.PermissionsBoundary, r.RoleID)
}

// DeleteRole removes a role.
func (tx *Tx) DeleteRole(ctx context.Context, roleID string) error {
	return tx.execOne(ctx, `DELETE FROM iam_roles WHERE role_id = $1`, roleID)
}

// InstanceProfile holds at most one role for instances to use.
type InstanceProfile struct {
	AccountID string
	ProfileID string
	Name      string
	Path      string
	RoleID    string // "" when it holds no role
	CreatedAt time.Time
}

// InsertInstanceProfile stores a profile; ErrConflict when the name exists.
func (tx *Tx) InsertInstanceProfile(ctx context.Context, p InstanceProfile) error {
	_, err := tx.exec(ctx, `INSERT INTO iam_instance_profiles (account_id, profile_id, name, name_key, path, role_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		p.AccountID, p.ProfileID, p.Name, strings.ToLower(p.Name), p.Path, p.RoleID, p.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert instance profile %s: %w", p.Name, err)
	}
	return nil
}

const profileColumns = `account_id, profile_id, name, path, role_id, created_at`

func (tx *Tx) listProfiles(ctx context.Context, query string, args ...any) ([]InstanceProfile, error) {
	var out []InstanceProfile
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var p InstanceProfile
		var created int64
		err := r.Scan(&p.AccountID, &p.ProfileID, &p.Name, &p.Path, &p.RoleID, &created)
		p.CreatedAt = Millis(created)
		out = append(out, p)
		return err
	}, query, args...)
	return out, err
}

// GetInstanceProfile finds a profile by name (case-insensitively).
func (tx *Tx) GetInstanceProfile(ctx context.Context, accountID, name string) (InstanceProfile, error) {
	out, err := tx.listProfiles(ctx, `SELECT `+profileColumns+` FROM iam_instance_profiles WHERE account_id = $1 AND name_key = $2`, accountID, strings.ToLower(name))
	if err == nil && len(out) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return InstanceProfile{}, err
	}
	return out[0], nil
}

// ListInstanceProfiles returns an account's profiles whose path starts with pathPrefix, by name.
func (tx *Tx) ListInstanceProfiles(ctx context.Context, accountID, pathPrefix string) ([]InstanceProfile, error) {
	all, err := tx.listProfiles(ctx, `SELECT `+profileColumns+` FROM iam_instance_profiles WHERE account_id = $1 ORDER BY name_key`, accountID)
	out := all[:0]
	for _, p := range all {
		if strings.HasPrefix(p.Path, pathPrefix) {
			out = append(out, p)
		}
	}
	return out, err
}

// InstanceProfilesOfRole returns the profiles that hold a role, by name.
func (tx *Tx) InstanceProfilesOfRole(ctx context.Context, roleID string) ([]InstanceProfile, error) {
	return tx.listProfiles(ctx, `SELECT `+profileColumns+` FROM iam_instance_profiles WHERE role_id = $1 ORDER BY name_key`, roleID)
}

// SetInstanceProfileRole puts a role in a profile ("" takes it out).
func (tx *Tx) SetInstanceProfileRole(ctx context.Context, profileID, roleID string) error {
	return tx.execOne(ctx, `UPDATE iam_instance_profiles SET role_id = $1 WHERE profile_id = $2`, roleID, profileID)
}

// DeleteInstanceProfile removes a profile.
func (tx *Tx) DeleteInstanceProfile(ctx context.Context, profileID string) error {
	return tx.execOne(ctx, `DELETE FROM iam_instance_profiles WHERE profile_id = $1`, profileID)
}

// LoginProfile is a user's console password, as a hash.
type LoginProfile struct {
	AccountID     string
	UserID        string
	PasswordHash  string
	ResetRequired bool
	CreatedAt     time.Time
}

// InsertLoginProfile stores a user's password hash; ErrConflict when the user has one.
func (tx *Tx) InsertLoginProfile(ctx context.Context, p LoginProfile) error {
	_, err := tx.exec(ctx, `INSERT INTO iam_login_profiles (account_id, user_id, password_hash, reset_required, created_at) VALUES ($1, $2, $3, $4, $5)`,
		p.AccountID, p.UserID, p.PasswordHash, p.ResetRequired, p.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert login profile of %s: %w", p.UserID, err)
	}
	return nil
}

// GetLoginProfile returns a user's login profile.
func (tx *Tx) GetLoginProfile(ctx context.Context, userID string) (LoginProfile, error) {
	p := LoginProfile{UserID: userID}
	var created int64
	err := tx.queryRow(ctx, `SELECT account_id, password_hash, reset_required, created_at FROM iam_login_profiles WHERE user_id = $1`,
		[]any{userID}, &p.AccountID, &p.PasswordHash, &p.ResetRequired, &created)
	p.CreatedAt = Millis(created)
	return p, err
}

// UpdateLoginProfile writes a profile's hash and reset flag.
func (tx *Tx) UpdateLoginProfile(ctx context.Context, p LoginProfile) error {
	return tx.execOne(ctx, `UPDATE iam_login_profiles SET password_hash = $1, reset_required = $2 WHERE user_id = $3`, p.PasswordHash, p.ResetRequired, p.UserID)
}

// DeleteLoginProfile removes a user's password.
func (tx *Tx) DeleteLoginProfile(ctx context.Context, userID string) error {
	return tx.execOne(ctx, `DELETE FROM iam_login_profiles WHERE user_id = $1`, userID)
}

// AccountAlias returns an account's alias, ErrNotFound when it has none.
func (tx *Tx) AccountAlias(ctx context.Context, accountID string) (string, error) {
	var alias string
	err := tx.queryRow(ctx, `SELECT alias FROM iam_account_aliases WHERE account_id = $1`, []any{accountID}, &alias)
	return alias, err
}

// InsertAccountAlias gives an account its alias; ErrConflict when the
// account has one or another account uses the alias.
func (tx *Tx) InsertAccountAlias(ctx context.Context, accountID, alias string) error {
	if _, err := tx.exec(ctx, `INSERT INTO iam_account_aliases (account_id, alias) VALUES ($1, $2)`, accountID, alias); err != nil {
		return fmt.Errorf("insert account alias %s: %w", alias, err)
	}
	return nil
}

// DeleteAccountAlias removes an account's alias if it is that one.
func (tx *Tx) DeleteAccountAlias(ctx context.Context, accountID, alias string) error {
	return tx.execOne(ctx, `DELETE FROM iam_account_aliases WHERE account_id = $1 AND alias = $2`, accountID, alias)
}

// BoundaryUsageCounts counts, per policy ARN, the users and roles of an
// account that use it as their permissions boundary.
func (tx *Tx) BoundaryUsageCounts(ctx context.Context, accountID string) (map[string]int, error) {
	out := map[string]int{}
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var arn string
		var n int
		err := r.Scan(&arn, &n)
		out[arn] = n
		return err
	}, `SELECT permissions_boundary, COUNT(*) FROM (
			SELECT permissions_boundary FROM iam_roles WHERE account_id = $1 AND permissions_boundary <> ''
			UNION ALL SELECT permissions_boundary FROM users WHERE account_id = $1 AND permissions_boundary <> '') b
		GROUP BY permissions_boundary`, accountID)
	return out, err
}
