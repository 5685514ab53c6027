package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Tag is one key/value label on a resource.
type Tag struct {
	AccountID    string
	ResourceID   string
	ResourceType string
	Key          string
	Value        string
}

// PutTag creates or overwrites a tag.
func (tx *Tx) PutTag(ctx context.Context, t Tag) error {
	_, err := tx.exec(ctx, `INSERT INTO tags (account_id, resource_id, resource_type, key, value) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (resource_id, key) DO UPDATE SET value = excluded.value`,
		t.AccountID, t.ResourceID, t.ResourceType, t.Key, t.Value)
	if err != nil {
		return fmt.Errorf("tag %s: %w", t.ResourceID, err)
	}
	return nil
}

// DeleteTag removes a tag; when value is non-nil only if the value matches.
func (tx *Tx) DeleteTag(ctx context.Context, accountID, resourceID, key string, value *string) error {
	var err error
	if value == nil {
		_, err = tx.exec(ctx, `DELETE FROM tags WHERE account_id = $1 AND resource_id = $2 AND key = $3`, accountID, resourceID, key)
	} else {
		_, err = tx.exec(ctx, `DELETE FROM tags WHERE account_id = $1 AND resource_id = $2 AND key = $3 AND value = $4`, accountID, resourceID, key, *value)
	}
	if err != nil {
		return fmt.Errorf("untag %s: %w", resourceID, err)
	}
	return nil
}

// DeleteAllTags removes every tag of a resource.
func (tx *Tx) DeleteAllTags(ctx context.Context, accountID, resourceID string) error {
	if _, err := tx.exec(ctx, `DELETE FROM tags WHERE account_id = $1 AND resource_id = $2`, accountID, resourceID); err != nil {
		return fmt.Errorf("untag %s: %w", resourceID, err)
	}
	return nil
}

// ListTags returns an account's tags, optionally of one resource type (” = all), by resource then key.
func (tx *Tx) ListTags(ctx context.Context, accountID, resourceType string) ([]Tag, error) {
	var out []Tag
	scan := func(r *sql.Rows) error {
		var t Tag
		err := r.Scan(&t.AccountID, &t.ResourceID, &t.ResourceType, &t.Key, &t.Value)
		out = append(out, t)
		return err
	}
	const cols = `SELECT account_id, resource_id, resource_type, key, value FROM tags WHERE account_id = $1`
	if resourceType == "" {
		return out, tx.queryRows(ctx, scan, cols+` ORDER BY resource_id, key`, accountID)
	}
	return out, tx.queryRows(ctx, scan, cols+` AND resource_type = $2 ORDER BY resource_id, key`, accountID, resourceType)
}

// TagsByResource groups an account's tags of one type by resource id.
func (tx *Tx) TagsByResource(ctx context.Context, accountID, resourceType string) (map[string][]Tag, error) {
	tags, err := tx.ListTags(ctx, accountID, resourceType)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]Tag)
	for _, t := range tags {
		out[t.ResourceID] = append(out[t.ResourceID], t)
	}
	return out, nil
}

// TagsOf returns one resource's tags as a map (authorization reads
// aws:ResourceTag/* and aws:PrincipalTag/* from it).
func (tx *Tx) TagsOf(ctx context.Context, accountID, resourceID string) (map[string]string, error) {
	out := map[string]string{}
	scan := func(r *sql.Rows) error {
		var k, v string
		err := r.Scan(&k, &v)
		out[k] = v
		return err
	}
	err := tx.queryRows(ctx, scan, `SELECT key, value FROM tags WHERE account_id = $1 AND resource_id = $2`, accountID, resourceID)
	if err != nil {
		return nil, fmt.Errorf("tags of %s: %w", resourceID, err)
	}
	return out, nil
}
