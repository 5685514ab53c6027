package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestVNIBackfill runs migration 0007's backfill on VPCs without a VNI:
// they get distinct VNIs from firstVNI up in id order, and the next VPC
// made gets the one after.
func TestVNIBackfill(t *testing.T) {
	for name, opts := range backfillBackends(t) {
		t.Run(name, func(t *testing.T) { testVNIBackfill(t, opts) })
	}
}

func vniBackfill(t *testing.T) string {
	t.Helper()
	list, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.version != 7 {
			continue
		}
		for _, stmt := range splitStatements(m.sql) {
			if strings.HasPrefix(stmt, "UPDATE vpcs") {
				return stmt
			}
		}
	}
	t.Fatal("no backfill statement in migration 7")
	return ""
}

func testVNIBackfill(t *testing.T, opts Options) {
	ctx := context.Background()
	db, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	backfill := vniBackfill(t)
	now := time.Now()
	var got, after []VPC
	err = db.Update(ctx, func(ctx context.Context, tx *Tx) error {
		for _, a := range []string{"111111111111", "222222222222"} {
			if err := tx.InsertAccount(ctx, Account{ID: a, Name: a, CreatedAt: now}); err != nil {
				return err
			}
		}
		for _, v := range []VPC{
			{ID: "vpc-00000000000000003", AccountID: "111111111111", CIDRBlock: "10.0.0.0/16", CreatedAt: now},
			{ID: "vpc-00000000000000001", AccountID: "222222222222", CIDRBlock: "10.0.0.0/16", CreatedAt: now},
			{ID: "vpc-00000000000000002", AccountID: "111111111111", CIDRBlock: "10.1.0.0/16", CreatedAt: now},
		} {
			if err := tx.InsertVPC(ctx, v); err != nil {
				return err
			}
		}
		// As before migration 7: no VNIs.
		if _, err := tx.exec(ctx, `UPDATE vpcs SET vni = NULL`); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, backfill); err != nil {
			return err
		}
		a, err := tx.ListVPCs(ctx, "111111111111")
		if err != nil {
			return err
		}
		b, err := tx.ListVPCs(ctx, "222222222222")
		if err != nil {
			return err
		}
		got = append(b, a...) // vpc-…1, vpc-…2, vpc-…3
		if err := tx.InsertVPC(ctx, VPC{ID: "vpc-00000000000000004", AccountID: "222222222222", CIDRBlock: "10.2.0.0/16", CreatedAt: now}); err != nil {
			return err
		}
		after, err = tx.ListVPCs(ctx, "222222222222")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v.VNI != uint32(firstVNI+i) {
			t.Errorf("%s: vni %d, want %d", v.ID, v.VNI, firstVNI+i)
		}
	}
	if len(after) != 2 || after[1].VNI != firstVNI+3 {
		t.Errorf("vpc made after the backfill: %+v", after)
	}
}
