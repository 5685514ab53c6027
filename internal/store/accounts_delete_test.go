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

// TestPurgeAccountFindsNewTables: a table added by a later migration that
// references the account's VPCs without a cascade, and a child of it,
// would make the account's deletion fail with a foreign-key error again.
// PurgeAccount finds every table with an account_id column and deletes in
// dependency order.
func TestPurgeAccountFindsNewTables(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		opts := b.Options(t)
		db, err := store.Open(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		raw := rawDB(t, opts)
		now := time.Now()
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.InsertAccount(ctx, store.Account{ID: "222222222222", Name: "team-b", CreatedAt: now}); err != nil {
				return err
			}
			return tx.InsertVPC(ctx, store.VPC{ID: "vpc-0123456789abcdef0", AccountID: "222222222222", CIDRBlock: "10.0.0.0/16", State: "available",
				InstanceTenancy: "default", CreatedAt: now})
		})
		for _, q := range []string{
			`CREATE TABLE zz_future (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), vpc_id TEXT NOT NULL REFERENCES vpcs(id))`,
			`CREATE TABLE zz_future_child (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), parent TEXT NOT NULL REFERENCES zz_future(id))`,
			`INSERT INTO zz_future VALUES ('f-1', '222222222222', 'vpc-0123456789abcdef0')`,
			`INSERT INTO zz_future_child VALUES ('c-1', '222222222222', 'f-1')`,
		} {
			if _, err := raw.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.PurgeAccount(ctx, "222222222222") })
		var n int
		if err := raw.QueryRow(`SELECT COUNT(*) FROM zz_future_child`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("rows left in the new table: %d, %v", n, err)
		}
	})
}
