package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestVNIsAreUniqueAcrossAccounts makes VPCs in several accounts at once
// (on PostgreSQL, in concurrent transactions): every VPC gets its own VNI.
func TestVNIsAreUniqueAcrossAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		ctx := context.Background()
		accounts := []string{"111111111111", "222222222222", "333333333333"}
		for _, a := range accounts {
			storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
				return tx.InsertAccount(ctx, store.Account{ID: a, Name: a, CreatedAt: time.Now()})
			})
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(accounts)*4)
		for n, a := range accounts {
			for k := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- db.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
						return tx.InsertVPC(ctx, store.VPC{ID: fmt.Sprintf("vpc-%017d", n*10+k), AccountID: a,
							CIDRBlock: "10.0.0.0/16", State: "available", InstanceTenancy: "default", CreatedAt: time.Now()})
					})
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("insert vpc: %v", err)
			}
		}
		seen := map[uint32]string{}
		for _, a := range accounts {
			var vpcs []store.VPC
			if err := db.View(ctx, func(ctx context.Context, tx *store.Tx) (err error) {
				vpcs, err = tx.ListVPCs(ctx, a)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if len(vpcs) != 4 {
				t.Fatalf("account %s: %d vpcs", a, len(vpcs))
			}
			for _, v := range vpcs {
				if v.VNI < 101 || v.VNI > 1<<24-1 {
					t.Errorf("%s: vni %d out of range", v.ID, v.VNI)
				}
				if other, dup := seen[v.VNI]; dup {
					t.Errorf("vni %d of %s is also %s's", v.VNI, v.ID, other)
				}
				seen[v.VNI] = v.ID
			}
		}
	})
}
