package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Account is a team: an AWS account of its own.
type Account struct {
	ID              string
	Name            string
	CreatedAt       time.Time
	DefaultsCreated bool
}

// User is an IAM user inside an account.
type User struct {
	AccountID           string
	UserID              string
	Name                string
	Path                string
	PermissionsBoundary string // "" or a managed policy ARN
	CreatedAt           time.Time
}

// AccessKey is a long-term credential of an account's root (” UserName) or of a user.
type AccessKey struct {
	ID        string
	AccountID string
	UserName  string
	SecretEnc string
	Status    string
	CreatedAt time.Time
}

// InsertAccount stores a new account; ErrConflict when the id or name exists.
func (tx *Tx) InsertAccount(ctx context.Context, a Account) error {
	_, err := tx.exec(ctx, `INSERT INTO accounts (id, name, created_at, defaults_created) VALUES ($1, $2, $3, $4)`,
		a.ID, a.Name, a.CreatedAt.UnixMilli(), false)
	if err != nil {
		return fmt.Errorf("insert account %s: %w", a.Name, err)
	}
	return nil
}

const accountColumns = `id, name, created_at, defaults_created`

func scanAccount(s interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var created int64
	err := s.Scan(&a.ID, &a.Name, &created, &a.DefaultsCreated)
	a.CreatedAt = Millis(created)
	return a, err
}

// GetAccount finds an account by id.
func (tx *Tx) GetAccount(ctx context.Context, id string) (Account, error) {
	row := tx.q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id)
	a, err := scanAccount(row)
	if err == sql.ErrNoRows {
		return a, ErrNotFound
	}
	return a, classify(err)
}

// FindAccount finds an account by id or by name.
func (tx *Tx) FindAccount(ctx context.Context, idOrName string) (Account, error) {
	row := tx.q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1 OR name = $1`, idOrName)
	a, err := scanAccount(row)
	if err == sql.ErrNoRows {
		return a, ErrNotFound
	}
	return a, classify(err)
}

// ListAccounts returns every account, by name.
func (tx *Tx) ListAccounts(ctx context.Context) ([]Account, error) {
	var out []Account
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		a, err := scanAccount(r)
		out = append(out, a)
		return err
	}, `SELECT `+accountColumns+` FROM accounts ORDER BY name`)
	return out, err
}

// ClaimDefaults marks the account's default resources as created. It returns
// true for exactly one caller, who must then create them in the same transaction.
func (tx *Tx) ClaimDefaults(ctx context.Context, accountID string) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE accounts SET defaults_created = TRUE WHERE id = $1 AND defaults_created = FALSE`, accountID)
	if err != nil {
		return false, fmt.Errorf("claim defaults of %s: %w", accountID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// InsertUser stores an IAM user; ErrConflict when the name exists (case-insensitively).
func (tx *Tx) InsertUser(ctx context.Context, u User) error {
	_, err := tx.exec(ctx, `INSERT INTO users (account_id, user_id, name, name_key, path, permissions_boundary, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.AccountID, u.UserID, u.Name, strings.ToLower(u.Name), u.Path, u.PermissionsBoundary, u.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert user %s: %w", u.Name, err)
	}
	return nil
}

const userColumns = `account_id, user_id, name, path, permissions_boundary, created_at`

func scanUser(s interface{ Scan(...any) error }) (User, error) {
	var u User
	var created int64
	err := s.Scan(&u.AccountID, &u.UserID, &u.Name, &u.Path, &u.PermissionsBoundary, &created)
	u.CreatedAt = Millis(created)
	return u, err
}

// GetUser finds a user by name (case-insensitively).
func (tx *Tx) GetUser(ctx context.Context, accountID, name string) (User, error) {
	row := tx.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE account_id = $1 AND name_key = $2`, accountID, strings.ToLower(name))
	u, err := scanUser(row)
	if err == sql.ErrNoRows {
		return u, ErrNotFound
	}
	return u, classify(err)
}

// ListUsers returns an account's users whose path starts with pathPrefix, by name.
func (tx *Tx) ListUsers(ctx context.Context, accountID, pathPrefix string) ([]User, error) {
	var out []User
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		u, err := scanUser(r)
		if strings.HasPrefix(u.Path, pathPrefix) {
			out = append(out, u)
		}
		return err
	}, `SELECT `+userColumns+` FROM users WHERE account_id = $1 ORDER BY name_key`, accountID)
	return out, err
}

// SetUserBoundary sets a user's permissions boundary ("" removes it).
func (tx *Tx) SetUserBoundary(ctx context.Context, userID, policyARN string) error {
	return tx.execOne(ctx, `UPDATE users SET permissions_boundary = $1 WHERE user_id = $2`, policyARN, userID)
}

// DeleteUser removes a user.
func (tx *Tx) DeleteUser(ctx context.Context, accountID, name string) error {
	return tx.execOne(ctx, `DELETE FROM users WHERE account_id = $1 AND name_key = $2`, accountID, strings.ToLower(name))
}

// InsertAccessKey stores a key whose secret is already encrypted.
func (tx *Tx) InsertAccessKey(ctx context.Context, k AccessKey) error {
	_, err := tx.exec(ctx, `INSERT INTO access_keys (id, account_id, user_name, secret_enc, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.AccountID, k.UserName, k.SecretEnc, k.Status, k.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert access key: %w", err)
	}
	return nil
}

const keyColumns = `id, account_id, user_name, secret_enc, status, created_at`

func scanKey(s interface{ Scan(...any) error }) (AccessKey, error) {
	var k AccessKey
	var created int64
	err := s.Scan(&k.ID, &k.AccountID, &k.UserName, &k.SecretEnc, &k.Status, &created)
	k.CreatedAt = Millis(created)
	return k, err
}

// GetAccessKey finds a key by id, across accounts (for authentication).
func (tx *Tx) GetAccessKey(ctx context.Context, id string) (AccessKey, error) {
	row := tx.q.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM access_keys WHERE id = $1`, id)
	k, err := scanKey(row)
	if err == sql.ErrNoRows {
		return k, ErrNotFound
	}
	return k, classify(err)
}

// ListAccessKeys returns the keys of one owner (” = root), oldest first.
func (tx *Tx) ListAccessKeys(ctx context.Context, accountID, userName string) ([]AccessKey, error) {
	var out []AccessKey
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		k, err := scanKey(r)
		out = append(out, k)
		return err
	}, `SELECT `+keyColumns+` FROM access_keys WHERE account_id = $1 AND user_name = $2 ORDER BY created_at, id`, accountID, userName)
	return out, err
}

// SetAccessKeyStatus changes Active/Inactive for a key of that owner.
func (tx *Tx) SetAccessKeyStatus(ctx context.Context, accountID, userName, id, status string) error {
	return tx.execOne(ctx, `UPDATE access_keys SET status = $1 WHERE account_id = $2 AND user_name = $3 AND id = $4`, status, accountID, userName, id)
}

// DeleteAccessKeys removes every key of one owner (” = root).
func (tx *Tx) DeleteAccessKeys(ctx context.Context, accountID, userName string) error {
	if _, err := tx.exec(ctx, `DELETE FROM access_keys WHERE account_id = $1 AND user_name = $2`, accountID, userName); err != nil {
		return fmt.Errorf("delete the keys of %q in %s: %w", userName, accountID, err)
	}
	return nil
}

// DeleteAccessKey removes a key of that owner.
func (tx *Tx) DeleteAccessKey(ctx context.Context, accountID, userName, id string) error {
	return tx.execOne(ctx, `DELETE FROM access_keys WHERE account_id = $1 AND user_name = $2 AND id = $3`, accountID, userName, id)
}

// LockAccount serialises the writers of one account's resources until the
// transaction ends, so check-then-insert rules (no overlapping subnets, no
// duplicate rules, quotas) hold under concurrency. SQLite's write
// transactions are already serial; PostgreSQL locks the account's row.
func (tx *Tx) LockAccount(ctx context.Context, id string) error {
	if tx.dialect != Postgres {
		return nil
	}
	var got string
	if err := tx.queryRow(ctx, `SELECT id FROM accounts WHERE id = $1 FOR UPDATE`, []any{id}, &got); err != nil {
		return fmt.Errorf("lock account %s: %w", id, err)
	}
	return nil
}
