package ec2

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/kumo-cloud/kumo/internal/store"
)

// requestDigest is a digest of an API request without its ClientToken and
// DryRun fields: two requests with the same digest asked for the same thing.
func requestDigest(in any) (string, error) {
	v := reflect.ValueOf(in)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	cp := reflect.New(v.Type()).Elem()
	cp.Set(v)
	for _, name := range []string{"ClientToken", "DryRun"} {
		if f := cp.FieldByName(name); f.IsValid() && f.CanSet() {
			f.Set(reflect.Zero(f.Type()))
		}
	}
	body, err := json.Marshal(cp.Interface())
	if err != nil {
		return "", fmt.Errorf("digest %s: %w", v.Type().Name(), err)
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]), nil
}

// maxClientToken is the longest ClientToken EC2 takes.
const maxClientToken = 64

func errIdempotentMismatch(token string) error {
	return apiErr("IdempotentParameterMismatch", "The client token %s was used before with different parameters.", token)
}

// priorToken returns the resource an earlier request of action with the
// same token made ("" when the token is new or empty), or
// IdempotentParameterMismatch when that request asked for something else.
func priorToken(ctx context.Context, tx *store.Tx, account, action, token string, in any) (string, error) {
	if token == "" {
		return "", nil
	}
	if len(token) > maxClientToken {
		return "", invalid("Value (%s) for parameter clientToken is invalid. The length of the client token must not exceed %d characters.", token, maxClientToken)
	}
	prior, err := tx.GetClientToken(ctx, account, action, token)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	digest, err := requestDigest(in)
	if err != nil {
		return "", err
	}
	if digest != prior.Params {
		return "", errIdempotentMismatch(token)
	}
	return prior.ResourceID, nil
}

// recordToken remembers that a request of action with token made resourceID.
func recordToken(ctx context.Context, tx *store.Tx, account, action, token string, in any, resourceID string) error {
	if token == "" {
		return nil
	}
	digest, err := requestDigest(in)
	if err != nil {
		return err
	}
	return tx.PutClientToken(ctx, store.ClientToken{AccountID: account, Action: action, Token: token, Params: digest,
		ResourceID: resourceID, CreatedAt: time.Now().UTC()})
}
