package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func TestMigrationsAreIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		opts := b.Options(t)
		ctx := context.Background()
		for i := 0; i < 2; i++ {
			db, err := store.Open(ctx, opts)
			if err != nil {
				t.Fatalf("open #%d: %v", i, err)
			}
			v, err := db.SchemaVersion(ctx)
			if err != nil || v < 1 {
				t.Fatalf("schema version = %d, %v", v, err)
			}
			db.Close()
		}
	})
}

func TestAccountsAndConflicts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		ctx := context.Background()
		a := store.Account{ID: "123456789012", Name: "team-a", CreatedAt: time.Now()}
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.InsertAccount(ctx, a) })
		err := db.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
			return tx.InsertAccount(ctx, store.Account{ID: "210987654321", Name: "team-a", CreatedAt: time.Now()})
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate name: got %v, want ErrConflict", err)
		}
		err = db.View(ctx, func(ctx context.Context, tx *store.Tx) error {
			got, err := tx.FindAccount(ctx, "team-a")
			if err != nil {
				return err
			}
			if got.ID != a.ID {
				t.Errorf("FindAccount by name = %s, want %s", got.ID, a.ID)
			}
			_, err = tx.GetAccount(ctx, "999999999999")
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("missing account: got %v, want ErrNotFound", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestClaimDefaultsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			return tx.InsertAccount(ctx, store.Account{ID: "123456789012", Name: "a", CreatedAt: time.Now()})
		})
		claims := 0
		for i := 0; i < 3; i++ {
			storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
				ok, err := tx.ClaimDefaults(ctx, "123456789012")
				if ok {
					claims++
				}
				return err
			})
		}
		if claims != 1 {
			t.Fatalf("ClaimDefaults succeeded %d times, want once", claims)
		}
	})
}

func TestRollbackOnErrorAndPanic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.InsertAccount(ctx, store.Account{ID: "111111111111", Name: "x", CreatedAt: time.Now()}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v, want boom", err)
		}
		func() {
			defer func() { _ = recover() }()
			_ = db.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
				_ = tx.InsertAccount(ctx, store.Account{ID: "222222222222", Name: "y", CreatedAt: time.Now()})
				panic("handler bug")
			})
		}()
		var n int
		_ = db.View(ctx, func(ctx context.Context, tx *store.Tx) error {
			list, err := tx.ListAccounts(ctx)
			n = len(list)
			return err
		})
		if n != 0 {
			t.Fatalf("%d accounts survived rolled-back transactions", n)
		}
		if s := db.Stats(); s.InUse != 0 {
			t.Fatalf("%d connections still in use after rollbacks", s.InUse)
		}
	})
}

func TestTagsUpsertAndDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		acct := "123456789012"
		v := "1"
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.InsertAccount(ctx, store.Account{ID: acct, Name: "a", CreatedAt: time.Now()}); err != nil {
				return err
			}
			for _, val := range []string{"1", "2"} {
				if err := tx.PutTag(ctx, store.Tag{AccountID: acct, ResourceID: "sg-1", ResourceType: "security-group", Key: "k", Value: val}); err != nil {
					return err
				}
			}
			return tx.DeleteTag(ctx, acct, "sg-1", "k", &v) // value differs: kept
		})
		var tags []store.Tag
		_ = db.View(context.Background(), func(ctx context.Context, tx *store.Tx) (err error) {
			tags, err = tx.ListTags(ctx, acct, "")
			return err
		})
		if len(tags) != 1 || tags[0].Value != "2" {
			t.Fatalf("tags = %+v, want one k=2", tags)
		}
	})
}

func TestUnsupportedDSN(t *testing.T) {
	_, err := store.Open(context.Background(), store.Options{DSN: "mysql://x"})
	if err == nil {
		t.Fatal("mysql:// accepted")
	}
}
