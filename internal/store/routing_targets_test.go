package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func TestSubnetTargetRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		w := newENIWorld(t, b)
		now := time.Now()
		routes := func() string {
			t.Helper()
			var out []store.TargetRoute
			storetest.MustUpdate(t, w.db, func(ctx context.Context, tx *store.Tx) (err error) {
				out, err = tx.SubnetTargetRoutes(ctx, "subnet-1")
				return err
			})
			return fmt.Sprint(out)
		}
		storetest.MustUpdate(t, w.db, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.InsertInstance(ctx, store.Instance{ID: "i-c", AccountID: w.acct, ReservationID: "r-3", State: "stopped",
				VPCID: "vpc-1", SubnetID: "subnet-1", NodeID: "node-a", CreatedAt: now}); err != nil {
				return err
			}
			if err := tx.InsertNetworkInterface(ctx, w.eni("eni-c0", "10.0.1.7", "i-c", 0, true)); err != nil {
				return err
			}
			if err := tx.InsertNetworkInterface(ctx, w.eni("eni-d", "10.0.1.8", "", 1, false)); err != nil {
				return err
			}
			if err := tx.InsertRouteTable(ctx, store.RouteTable{ID: "rtb-main", AccountID: w.acct, VPCID: "vpc-1", MainAssociationID: "rtbassoc-main", CreatedAt: now}); err != nil {
				return err
			}
			if err := tx.InsertInternetGateway(ctx, store.InternetGateway{ID: "igw-1", AccountID: w.acct, CreatedAt: now}); err != nil {
				return err
			}
			for _, r := range []store.Route{
				{DestinationCIDR: "10.0.0.0/16", GatewayID: "local"},
				{DestinationCIDR: "0.0.0.0/0", InstanceID: "i-a"},                  // running: its primary address
				{DestinationCIDR: "192.0.2.0/24", NetworkInterfaceID: "eni-b1"},    // attached: its address
				{DestinationCIDR: "198.51.100.0/24", GatewayID: "igw-1"},           // detached gateway: blackhole
				{DestinationCIDR: "203.0.113.0/24", InstanceID: "i-c"},             // stopped: blackhole
				{DestinationCIDR: "203.0.113.128/25", NetworkInterfaceID: "eni-d"}, // detached: blackhole
			} {
				r.RouteTableID, r.Origin, r.CreatedAt = "rtb-main", "CreateRoute", now
				if err := tx.PutRoute(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
		want := "[{0.0.0.0/0 10.0.1.4} {192.0.2.0/24 10.0.1.6} {198.51.100.0/24 } {203.0.113.0/24 } {203.0.113.128/25 }]"
		if got := routes(); got != want {
			t.Errorf("routes = %s\nwant %s", got, want)
		}
		// Attached, the gateway's routes are the internet's (SubnetInternetRoutes), not these.
		storetest.MustUpdate(t, w.db, func(ctx context.Context, tx *store.Tx) error {
			return tx.SetInternetGatewayVPC(ctx, w.acct, "igw-1", "vpc-1")
		})
		want = "[{0.0.0.0/0 10.0.1.4} {192.0.2.0/24 10.0.1.6} {203.0.113.0/24 } {203.0.113.128/25 }]"
		if got := routes(); got != want {
			t.Errorf("with the gateway attached: %s\nwant %s", got, want)
		}
	})
}
