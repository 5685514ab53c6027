package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func TestNetworkInterfaces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		ctx := context.Background()
		acct := "123456789012"
		eni := store.NetworkInterface{ID: "eni-1", AccountID: acct, SubnetID: "subnet-1", VPCID: "vpc-1", PrivateIP: "10.0.0.4",
			MAC: "02:00:00:00:00:01", InstanceID: "i-1", CreatedAt: time.Now(), DeleteOnTermination: true, AttachmentID: "eni-attach-1"}
		inst := store.Instance{ID: "i-1", AccountID: acct, ReservationID: "r-1", State: "running", CreatedAt: time.Now()}
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.InsertAccount(ctx, store.Account{ID: acct, Name: "a", CreatedAt: time.Now()}); err != nil {
				return err
			}
			if err := tx.InsertInstance(ctx, inst); err != nil {
				return err
			}
			return tx.InsertNetworkInterface(ctx, eni)
		})
		for name, dup := range map[string]store.NetworkInterface{
			"same address on the subnet": {ID: "eni-2", AccountID: acct, SubnetID: "subnet-1", VPCID: "vpc-1", PrivateIP: "10.0.0.4", MAC: "02:00:00:00:00:02"},
			"same MAC":                   {ID: "eni-3", AccountID: acct, SubnetID: "subnet-2", VPCID: "vpc-1", PrivateIP: "10.0.1.4", MAC: "02:00:00:00:00:01"},
		} {
			err := db.Update(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.InsertNetworkInterface(ctx, dup) })
			if !errors.Is(err, store.ErrConflict) {
				t.Errorf("%s: %v, want ErrConflict", name, err)
			}
		}
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			if used, err := tx.MACInUse(ctx, eni.MAC); err != nil || !used {
				t.Errorf("MACInUse = %v, %v", used, err)
			}
			if ips, err := tx.SubnetPrivateIPs(ctx, "subnet-1"); err != nil || len(ips) != 1 || ips[0] != "10.0.0.4" {
				t.Errorf("SubnetPrivateIPs = %v, %v", ips, err)
			}
			if list, err := tx.InstanceNetworkInterfaces(ctx, "i-1"); err != nil || len(list) != 1 || list[0].MAC != eni.MAC {
				t.Errorf("InstanceNetworkInterfaces = %+v, %v", list, err)
			}
			// Running: its address stays taken.
			if err := tx.ReleaseTerminatedInterfaces(ctx, "subnet-1"); err != nil {
				return err
			}
			if list, _ := tx.ListNetworkInterfaces(ctx, acct); len(list) != 1 {
				t.Errorf("a running instance's interface was released")
			}
			inst.State = "terminated"
			if err := tx.UpdateInstance(ctx, inst); err != nil {
				return err
			}
			if err := tx.ReleaseTerminatedInterfaces(ctx, "subnet-1"); err != nil {
				return err
			}
			if list, _ := tx.ListNetworkInterfaces(ctx, acct); len(list) != 0 {
				t.Errorf("a terminated instance's interface was kept: %+v", list)
			}
			return nil
		})
	})
}
