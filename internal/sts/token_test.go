package sts

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/secrets"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func newBox(t *testing.T) *secrets.Box {
	key := make([]byte, 32)
	rand.Read(key)
	b, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSessionTokens: a token resolves only with its own access key and
// the key that sealed it, not after its expiry, and not once its role
// is gone or replaced.
func TestSessionTokens(t *testing.T) {
	db := storetest.Open(t, storetest.Backends()[0])
	ctx := context.Background()
	now := time.Now().UTC()
	storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		return errors.Join(tx.InsertAccount(ctx, store.Account{ID: "123456789012", Name: "a", CreatedAt: now}),
			tx.InsertRole(ctx, store.Role{AccountID: "123456789012", RoleID: "AROAEXAMPLE1", Name: "dev", Path: "/", TrustPolicy: "{}", MaxSessionDuration: 7200, CreatedAt: now}))
	})
	clock := now
	s := &Service{DB: db, Box: newBox(t), Now: func() time.Time { return clock }}
	c, err := s.IssueRoleSession(ctx, "123456789012", "dev", "alice", 2*time.Hour, map[string]string{"team": "blue"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.AccessKeyID, "ASIA") || len(c.AccessKeyID) != 20 || !c.Expiration.Equal(now.Add(2*time.Hour).Truncate(time.Second)) {
		t.Errorf("credentials = %+v", c)
	}
	secret, p, err := s.ResolveSession(ctx, c.AccessKeyID, c.SessionToken)
	if err != nil || secret != c.SecretAccessKey || p.ARN() != "arn:aws:sts::123456789012:assumed-role/dev/alice" ||
		p.UserID != "AROAEXAMPLE1:alice" || !p.Temporary || p.SessionTags["team"] != "blue" {
		t.Fatalf("resolve = %q %+v %v", secret, p, err)
	}
	invalid := map[string][2]string{
		"another key id":   {"ASIAAAAAAAAAAAAAAAAA", c.SessionToken},
		"long-term key id": {"AKIA" + c.AccessKeyID[4:], c.SessionToken},
		"tampered":         {c.AccessKeyID, c.SessionToken[:len(c.SessionToken)-4] + "AAAA"},
		"no prefix":        {c.AccessKeyID, strings.TrimPrefix(c.SessionToken, tokenPrefix)},
		"junk":             {c.AccessKeyID, "KUMO1!!!"},
	}
	for name, kt := range invalid {
		if _, _, err := s.ResolveSession(ctx, kt[0], kt[1]); !errors.Is(err, identity.ErrInvalidToken) {
			t.Errorf("%s: %v, want ErrInvalidToken", name, err)
		}
	}
	other := &Service{DB: db, Box: newBox(t)}
	if _, _, err := other.ResolveSession(ctx, c.AccessKeyID, c.SessionToken); !errors.Is(err, identity.ErrInvalidToken) {
		t.Errorf("another server key: %v, want ErrInvalidToken", err)
	}
	clock = now.Add(2 * time.Hour)
	if _, _, err := s.ResolveSession(ctx, c.AccessKeyID, c.SessionToken); !errors.Is(err, identity.ErrExpiredToken) {
		t.Errorf("at expiry: %v, want ErrExpiredToken", err)
	}
	clock = now
	storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.DeleteRole(ctx, "AROAEXAMPLE1"); err != nil {
			return err
		}
		return tx.InsertRole(ctx, store.Role{AccountID: "123456789012", RoleID: "AROAEXAMPLE2", Name: "dev", Path: "/", TrustPolicy: "{}", MaxSessionDuration: 3600, CreatedAt: now})
	})
	if _, _, err := s.ResolveSession(ctx, c.AccessKeyID, c.SessionToken); !errors.Is(err, identity.ErrInvalidToken) {
		t.Errorf("role re-created: %v, want ErrInvalidToken", err)
	}
	if _, err := s.IssueRoleSession(ctx, "123456789012", "dev", "alice", 2*time.Hour, nil); err == nil {
		t.Error("a session longer than the role's MaxSessionDuration was issued")
	}
	if _, err := s.IssueRoleSession(ctx, "123456789012", "dev", "a b", time.Hour, nil); err == nil {
		t.Error("a session name with a space was accepted")
	}
	if _, err := s.IssueRoleSession(ctx, "123456789012", "nope", "alice", time.Hour, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing role: %v, want store.ErrNotFound", err)
	}
}
