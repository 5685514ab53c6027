package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Bucket is an S3 bucket's registry row: who owns it and who else may use
// it. Its objects live in the object backend, not in the database.
type Bucket struct {
	Name      string
	AccountID string
	ACL       string      // canned ACL
	Policy    string      // bucket policy JSON, "" = none
	Tags      []BucketTag // bucket tags in the order put; nil = no tag set
	CreatedAt time.Time
}

// BucketTag is one key-value tag of an S3 bucket.
type BucketTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
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

const bucketColumns = `name, account_id, acl, policy, tags, created_at`

func scanBucket(s interface{ Scan(...any) error }) (Bucket, error) {
	var b Bucket
	var created int64
	var tags string
	if err := s.Scan(&b.Name, &b.AccountID, &b.ACL, &b.Policy, &tags, &created); err != nil {
		return b, err
	}
	b.CreatedAt = Millis(created)
	if tags != "" {
		if err := json.Unmarshal([]byte(tags), &b.Tags); err != nil {
			return b, fmt.Errorf("bucket %s: tags: %w", b.Name, err)
		}
	}
	return b, nil
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

// SetBucketTags replaces a bucket's tag set (nil removes it).
func (tx *Tx) SetBucketTags(ctx context.Context, name string, tags []BucketTag) error {
	enc := ""
	if tags != nil {
		buf, err := json.Marshal(tags)
		if err != nil {
			return fmt.Errorf("bucket %s: encode tags: %w", name, err)
		}
		enc = string(buf)
	}
	return tx.execOne(ctx, `UPDATE buckets SET tags = $1 WHERE name = $2`, enc, name)
}

// DeleteBucket removes a bucket's registry row.
func (tx *Tx) DeleteBucket(ctx context.Context, name string) error {
	return tx.execOne(ctx, `DELETE FROM buckets WHERE name = $1`, name)
}
