package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestAutoAssignedPublicIPs: public IPs assigned at launch share the
// addresses table (and its uniqueness) with elastic IPs, are left out of
// the elastic IP list, lapse when their instance stops and are swept back
// to the pool.
func TestAutoAssignedPublicIPs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		ctx := context.Background()
		acct, now := "123456789012", time.Now()
		inst := store.Instance{ID: "i-1", AccountID: acct, ReservationID: "r-1", State: "running", CreatedAt: now}
		eni := store.NetworkInterface{ID: "eni-1", AccountID: acct, SubnetID: "subnet-1", VPCID: "vpc-1", PrivateIP: "10.0.0.4",
			MAC: "02:00:00:00:00:01", InstanceID: "i-1", CreatedAt: now}
		auto := store.Address{AccountID: acct, PublicIP: "192.0.2.1", Auto: true, NetworkInterfaceID: eni.ID, PrivateIP: eni.PrivateIP, CreatedAt: now}
		eip := store.Address{AllocationID: "eipalloc-1", AccountID: acct, PublicIP: "192.0.2.2", CreatedAt: now}
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			return errors.Join(tx.InsertAccount(ctx, store.Account{ID: acct, Name: "a", CreatedAt: now}), tx.InsertInstance(ctx, inst),
				tx.InsertNetworkInterface(ctx, eni), tx.InsertAddress(ctx, auto), tx.InsertAddress(ctx, eip),
				tx.SetInterfacePublicIP(ctx, acct, eni.ID, true), tx.SetInterfacePublicIP(ctx, acct, eni.ID, true),
				tx.SetInterfacePublicIP(ctx, acct, "eni-gone", true))
		})
		// One address, one use: an elastic IP cannot take an auto-assigned one.
		err := db.Update(ctx, func(ctx context.Context, tx *store.Tx) error {
			return tx.InsertAddress(ctx, store.Address{AllocationID: "eipalloc-2", AccountID: acct, PublicIP: "192.0.2.1", CreatedAt: now})
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second use of 192.0.2.1: %v, want ErrConflict", err)
		}
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			if l, err := tx.ListAddresses(ctx, acct); err != nil || len(l) != 1 || l[0].AllocationID != "eipalloc-1" {
				t.Errorf("ListAddresses = %+v, %v; want the elastic IP only", l, err)
			}
			l, err := tx.ListPublicAddresses(ctx, acct)
			if err != nil || len(l) != 2 || !l[0].Auto || l[0].AllocationID != "" || !l[0].Associated() || l[0].InstanceID != "i-1" || l[1].Auto {
				t.Errorf("ListPublicAddresses = %+v, %v", l, err)
			}
			if m, err := tx.NetworkInterfaceAddresses(ctx, eni.ID); err != nil || len(m) != 1 || m[0].PublicIP != "192.0.2.1" {
				t.Errorf("NetworkInterfaceAddresses = %+v, %v", m, err)
			}
			if on, err := tx.InterfacePublicIP(ctx, eni.ID); err != nil || !on {
				t.Errorf("InterfacePublicIP = %v, %v", on, err)
			}
			// Running: nothing to sweep but the gone interface's choice.
			if n, err := tx.SweepPublicIPs(ctx); err != nil || n != 0 {
				t.Errorf("SweepPublicIPs while running = %d, %v", n, err)
			}
			if on, _ := tx.InterfacePublicIP(ctx, "eni-gone"); on {
				t.Error("a gone interface's choice survived the sweep")
			}
			// Stopped: lapsed, then swept.
			inst.State = "stopped"
			if err := tx.UpdateInstance(ctx, inst); err != nil {
				return err
			}
			if m, _ := tx.NetworkInterfaceAddresses(ctx, eni.ID); len(m) != 0 {
				t.Errorf("a stopped instance's public IP is still mapped: %+v", m)
			}
			if n, err := tx.SweepPublicIPs(ctx); err != nil || n != 1 {
				t.Errorf("SweepPublicIPs = %d, %v; want 1", n, err)
			}
			if ips, err := tx.AllocatedPublicIPs(ctx); err != nil || !slices.Equal(ips, []string{"192.0.2.2"}) {
				t.Errorf("AllocatedPublicIPs = %v, %v", ips, err)
			}
			if on, _ := tx.InterfacePublicIP(ctx, eni.ID); !on {
				t.Error("the launch choice did not outlive the stop")
			}
			if err := tx.SetInterfacePublicIP(ctx, acct, eni.ID, false); err != nil {
				return err
			}
			if on, _ := tx.InterfacePublicIP(ctx, eni.ID); on {
				t.Error("SetInterfacePublicIP(false) kept the choice")
			}
			if err := tx.SetSubnetMapPublicIP(ctx, acct, "subnet-none", true); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("SetSubnetMapPublicIP of a missing subnet: %v", err)
			}
			return nil
		})
	})
}

// TestDeleteInterfacePublicIPs leaves elastic IPs alone.
func TestDeleteInterfacePublicIPs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		acct, now := "123456789012", time.Now()
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			err := errors.Join(tx.InsertAccount(ctx, store.Account{ID: acct, Name: "a", CreatedAt: now}),
				tx.InsertAddress(ctx, store.Address{AccountID: acct, PublicIP: "192.0.2.1", Auto: true, NetworkInterfaceID: "eni-1", PrivateIP: "10.0.0.4", CreatedAt: now}),
				tx.InsertAddress(ctx, store.Address{AllocationID: "eipalloc-1", AccountID: acct, PublicIP: "192.0.2.2", AssociationID: "eipassoc-1",
					NetworkInterfaceID: "eni-1", PrivateIP: "10.0.0.5", CreatedAt: now}),
				tx.DeleteInterfacePublicIPs(ctx, "eni-1"))
			if err != nil {
				return err
			}
			if ips, err := tx.AllocatedPublicIPs(ctx); err != nil || !slices.Equal(ips, []string{"192.0.2.2"}) {
				t.Errorf("AllocatedPublicIPs = %v, %v", ips, err)
			}
			return nil
		})
	})
}
