package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestDeleteAccountHoldingABucket: the buckets table has no cascade, so
// deleting an account that owned one failed with a foreign-key error (HTTP
// 500 at the admin API) on both databases. DeleteAccount now refuses with
// a HeldError naming what remains, and PurgeAccount removes everything.
func TestDeleteAccountHoldingABucket(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		ctx := context.Background()
		now := time.Now()
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.InsertAccount(ctx, store.Account{ID: "111111111111", Name: "team-a", CreatedAt: now}); err != nil {
				return err
			}
			if err := tx.InsertAccessKey(ctx, store.AccessKey{ID: "AKIAEXAMPLE", AccountID: "111111111111", Status: "Active", CreatedAt: now}); err != nil {
				return err
			}
			return tx.InsertBucket(ctx, store.Bucket{Name: "team-a-data", AccountID: "111111111111", ACL: "private", CreatedAt: now})
		})
		err := db.Update(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteAccount(ctx, "111111111111") })
		held, ok := store.IsHeld(err)
		if !ok || !errors.Is(err, store.ErrInUse) || held.Holdings != (store.Holdings{Buckets: 1}) ||
			err.Error() != "account team-a still has 1 bucket; terminate or delete them, or use --force to remove everything it owns" {
			t.Fatalf("delete an account holding a bucket: %v", err)
		}
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.PurgeAccount(ctx, "111111111111") })
		err = db.View(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.GetAccessKey(ctx, "AKIAEXAMPLE")
			return err
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the purged account's key: %v, want not found", err)
		}
	})
}

func TestHoldingsString(t *testing.T) {
	h := store.Holdings{Instances: 2, VPCs: 1, Buckets: 3, Addresses: 1}
	if got := h.String(); got != "2 instances, 1 VPC, 3 buckets, 1 elastic IP" {
		t.Errorf("Holdings.String() = %q", got)
	}
}
