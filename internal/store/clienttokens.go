package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ClientToken records what the first request carrying an idempotency token
// did, for actions whose resources have no token column of their own.
type ClientToken struct {
	AccountID  string
	Action     string // the EC2 action, e.g. CreateRouteTable
	Token      string
	Params     string // digest of the request's other parameters
	ResourceID string
	CreatedAt  time.Time
}

// GetClientToken returns the record of an account's token for an action;
// ErrNotFound when the token was not used.
func (tx *Tx) GetClientToken(ctx context.Context, accountID, action, token string) (ClientToken, error) {
	c := ClientToken{AccountID: accountID, Action: action, Token: token}
	var created int64
	err := tx.queryRow(ctx, `SELECT params, resource_id, created_at FROM client_tokens
		WHERE account_id = $1 AND action = $2 AND token = $3`, []any{accountID, action, token}, &c.Params, &c.ResourceID, &created)
	if errors.Is(err, ErrNotFound) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("get client token %s/%s: %w", action, token, err)
	}
	c.CreatedAt = Millis(created)
	return c, nil
}

// PutClientToken records (or replaces) a token's record.
func (tx *Tx) PutClientToken(ctx context.Context, c ClientToken) error {
	if _, err := tx.exec(ctx, `DELETE FROM client_tokens WHERE account_id = $1 AND action = $2 AND token = $3`,
		c.AccountID, c.Action, c.Token); err != nil {
		return fmt.Errorf("replace client token %s/%s: %w", c.Action, c.Token, err)
	}
	_, err := tx.exec(ctx, `INSERT INTO client_tokens (account_id, action, token, params, resource_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.AccountID, c.Action, c.Token, c.Params, c.ResourceID, c.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("put client token %s/%s: %w", c.Action, c.Token, err)
	}
	return nil
}
