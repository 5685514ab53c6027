package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// KeyPair is an EC2 key pair; only the public half is kept.
type KeyPair struct {
	ID          string
	AccountID   string
	Name        string
	KeyType     string
	Fingerprint string
	PublicKey   string
	CreatedAt   time.Time
}

// InsertKeyPair stores a key pair; ErrConflict when the name exists in the account.
func (tx *Tx) InsertKeyPair(ctx context.Context, k KeyPair) error {
	_, err := tx.exec(ctx, `INSERT INTO key_pairs (id, account_id, name, key_type, fingerprint, public_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.AccountID, k.Name, k.KeyType, k.Fingerprint, k.PublicKey, k.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert key pair %s: %w", k.Name, err)
	}
	return nil
}

// ListKeyPairs returns an account's key pairs by id.
func (tx *Tx) ListKeyPairs(ctx context.Context, accountID string) ([]KeyPair, error) {
	var out []KeyPair
	err := tx.queryRows(ctx, func(r *sql.Rows) error {
		var k KeyPair
		var created int64
		err := r.Scan(&k.ID, &k.AccountID, &k.Name, &k.KeyType, &k.Fingerprint, &k.PublicKey, &created)
		k.CreatedAt = Millis(created)
		out = append(out, k)
		return err
	}, `SELECT id, account_id, name, key_type, fingerprint, public_key, created_at FROM key_pairs WHERE account_id = $1 ORDER BY id`, accountID)
	return out, err
}

// DeleteKeyPair removes a key pair by id and its tags.
func (tx *Tx) DeleteKeyPair(ctx context.Context, accountID, id string) error {
	if err := tx.execOne(ctx, `DELETE FROM key_pairs WHERE account_id = $1 AND id = $2`, accountID, id); err != nil {
		return err
	}
	return tx.DeleteAllTags(ctx, accountID, id)
}
