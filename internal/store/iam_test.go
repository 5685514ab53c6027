package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

var iamTables = []string{"iam_groups", "iam_group_members", "iam_roles", "iam_policies", "iam_policy_versions",
	"iam_attachments", "iam_inline_policies", "iam_instance_profiles", "iam_login_profiles", "iam_account_aliases"}

// seedIAM gives an account one row in every IAM table.
func seedIAM(ctx context.Context, tx *store.Tx, acct string) error {
	now := time.Now()
	steps := []func() error{
		func() error {
			return tx.InsertAccount(ctx, store.Account{ID: acct, Name: "team-" + acct, CreatedAt: now})
		},
		func() error {
			return tx.InsertUser(ctx, store.User{AccountID: acct, UserID: "AIDA" + acct, Name: "alice", Path: "/", CreatedAt: now})
		},
		func() error {
			return tx.InsertGroup(ctx, store.Group{AccountID: acct, GroupID: "AGPA" + acct, Name: "devs", Path: "/", CreatedAt: now})
		},
		func() error { return tx.AddGroupMember(ctx, acct, "AGPA"+acct, "AIDA"+acct) },
		func() error {
			return tx.InsertRole(ctx, store.Role{AccountID: acct, RoleID: "AROA" + acct, Name: "web", Path: "/", TrustPolicy: "{}", MaxSessionDuration: 3600, CreatedAt: now})
		},
		func() error {
			p := store.Policy{AccountID: acct, PolicyID: "ANPA" + acct, ARN: "arn:aws:iam::" + acct + ":policy/p", Name: "p", Path: "/", DefaultVersion: "v1", NextVersion: 2, CreatedAt: now, UpdatedAt: now}
			return tx.InsertPolicy(ctx, p, store.PolicyVersion{AccountID: acct, PolicyID: p.PolicyID, VersionID: "v1", Document: "{}", CreatedAt: now})
		},
		func() error {
			return tx.Attach(ctx, store.Attachment{AccountID: acct, EntityType: store.EntityGroup, EntityID: "AGPA" + acct, PolicyARN: "arn:aws:iam::" + acct + ":policy/p", AttachedAt: now})
		},
		func() error {
			return tx.PutInlinePolicy(ctx, store.InlinePolicy{AccountID: acct, EntityType: store.EntityRole, EntityID: "AROA" + acct, Name: "i", Document: "{}"})
		},
		func() error {
			return tx.InsertInstanceProfile(ctx, store.InstanceProfile{AccountID: acct, ProfileID: "AIPA" + acct, Name: "web", Path: "/", RoleID: "AROA" + acct, CreatedAt: now})
		},
		func() error {
			return tx.InsertLoginProfile(ctx, store.LoginProfile{AccountID: acct, UserID: "AIDA" + acct, PasswordHash: "$argon2id$x", CreatedAt: now})
		},
		func() error { return tx.InsertAccountAlias(ctx, acct, "alias-"+acct) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// TestDeleteAccountWithIAMEntities: users, groups, roles and policies are
// not holdings; deleting their account removes every IAM row it owns, and
// a forced delete (keys revoked first) does too, on both databases.
func TestDeleteAccountWithIAMEntities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		ctx := context.Background()
		for _, acct := range []string{"333333333333", "444444444444"} {
			storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return seedIAM(ctx, tx, acct) })
		}
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteAccount(ctx, "333333333333") })
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.RevokeAccountKeys(ctx, "444444444444"); err != nil {
				return err
			}
			return tx.PurgeAccount(ctx, "444444444444")
		})
		err := db.View(ctx, func(ctx context.Context, tx *store.Tx) error {
			for _, acct := range []string{"333333333333", "444444444444"} {
				for _, table := range iamTables {
					n, err := tx.CountRows(ctx, table, acct)
					if err != nil {
						return err
					}
					if n != 0 {
						t.Errorf("%d rows of deleted account %s left in %s", n, acct, table)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestAccountAliasesAreGloballyUnique: one alias per account, and no two
// accounts share one.
func TestAccountAliasesAreGloballyUnique(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		ctx := context.Background()
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			for _, a := range []string{"555555555555", "666666666666"} {
				if err := tx.InsertAccount(ctx, store.Account{ID: a, Name: "n" + a, CreatedAt: time.Now()}); err != nil {
					return err
				}
			}
			return tx.InsertAccountAlias(ctx, "555555555555", "shared")
		})
		for _, c := range []struct{ acct, alias string }{{"666666666666", "shared"}, {"555555555555", "second"}} {
			err := db.Update(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.InsertAccountAlias(ctx, c.acct, c.alias) })
			if !errors.Is(err, store.ErrConflict) {
				t.Errorf("alias %s for %s: %v, want ErrConflict", c.alias, c.acct, err)
			}
		}
	})
}
