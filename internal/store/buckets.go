package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Bucket is an S3 bucket's registry row: who owns it and who else may use
// it. Its objects live in the object backend, not in the database.
type Bucket struct {
	Name      string
	AccountID string
	ACL       string // canned ACL
	Policy    string // bucket policy JSON, "" = none
	CreatedAt time.Time
}

// InsertBucket registers a bucket; ErrConflict when the name is taken by
// any account.
func (tx *Tx) InsertBucket(ctx context.Context, b Bucket) error {
	_, err := tx.exec(ctx, `INSERT INTO buckets (name, account_id, acl, policy, created_at) VALUES ($1, $2, $3, $4, $5)`,
		b.Name, b.AccountID, b.ACL, b.Policy, b.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert bucket %s: %w", b.Name, err)
	}
	return nil
}

const bucketColumns = `name, account_id, acl, policy, created_at`

func scanBucket(s interface{ Scan(...any) error }) (Bucket, error) {
	var b Bucket
	var created int64
	err := s.Scan(&b.Name, &b.AccountID, &b.ACL, &b.Policy, &created)
	b.CreatedAt = Millis(created)
	return b, err
}

// GetBucket finds a bucket by name, whoever owns it.
func (tx *Tx) GetBucket(ctx context.Context, name string) (Bucket, error) {
	row := tx.q.QueryRowContext(ctx, `SELECT `+bucketColumns+` FROM buckets WHERE name = $1`, name)
	b, err := scanBucket(row)
	if err == sql.ErrNoRows {
		return b, ErrNotFound
	}
	return b, classify(err)
}

// ListBuckets returns an account's buckets by name.
func (tx *Tx) ListBuckets(ctx context.Context, accountID string) ([]Bucket, error) {
	var out []Bucket
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		b, err := scanBucket(r)
		out = append(out, b)
		return err
	}, `SELECT `+bucketColumns+` FROM buckets WHERE account_id = $1 ORDER BY name`, accountID)
	return out, err
}

// SetBucketACL replaces a bucket's canned ACL.
func (tx *Tx) SetBucketACL(ctx context.Context, name, acl string) error {
	return tx.execOne(ctx, `UPDATE buckets SET acl = $1 WHERE name = $2`, acl, name)
}

// SetBucketPolicy replaces a bucket's policy ("" removes it).
func (tx *Tx) SetBucketPolicy(ctx context.Context, name, policy string) error {
	return tx.execOne(ctx, `UPDATE buckets SET policy = $1 WHERE name = $2`, policy, name)
}

// DeleteBucket removes a bucket's registry row.
func (tx *Tx) DeleteBucket(ctx context.Context, name string) error {
	return tx.execOne(ctx, `DELETE FROM buckets WHERE name = $1`, name)
}
