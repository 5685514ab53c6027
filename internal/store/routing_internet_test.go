package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func TestSubnetInternetRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		w := newENIWorld(t, b)
		now := time.Now()
		routes := func() []string {
			t.Helper()
			var out []string
			storetest.MustUpdate(t, w.db, func(ctx context.Context, tx *store.Tx) (err error) {
				out, err = tx.SubnetInternetRoutes(ctx, "subnet-1")
				return err
			})
			return out
		}
		step := func(fn func(ctx context.Context, tx *store.Tx) error) {
			t.Helper()
			storetest.MustUpdate(t, w.db, fn)
		}
		// No table at all yet: nothing.
		if got := routes(); len(got) != 0 {
			t.Fatalf("no route table: %v", got)
		}
		step(func(ctx context.Context, tx *store.Tx) error {
			for _, rt := range []store.RouteTable{
				{ID: "rtb-main", AccountID: w.acct, VPCID: "vpc-1", MainAssociationID: "rtbassoc-main", CreatedAt: now},
				{ID: "rtb-other", AccountID: w.acct, VPCID: "vpc-1", CreatedAt: now},
			} {
				if err := tx.InsertRouteTable(ctx, rt); err != nil {
					return err
				}
			}
			if err := tx.InsertInternetGateway(ctx, store.InternetGateway{ID: "igw-1", AccountID: w.acct, CreatedAt: now}); err != nil {
				return err
			}
			for _, r := range []store.Route{
				{RouteTableID: "rtb-main", DestinationCIDR: "10.0.0.0/16", GatewayID: "local"},
				{RouteTableID: "rtb-main", DestinationCIDR: "0.0.0.0/0", GatewayID: "igw-1"},
				{RouteTableID: "rtb-main", DestinationCIDR: "192.0.2.0/24", GatewayID: "igw-1"},
				{RouteTableID: "rtb-other", DestinationCIDR: "198.51.100.0/24", GatewayID: "igw-1"},
			} {
				r.Origin, r.CreatedAt = "CreateRoute", now
				if err := tx.PutRoute(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
		// The gateway is not attached: its routes are blackholes.
		if got := routes(); len(got) != 0 {
			t.Fatalf("detached gateway: %v", got)
		}
		step(func(ctx context.Context, tx *store.Tx) error {
			return tx.SetInternetGatewayVPC(ctx, w.acct, "igw-1", "vpc-1")
		})
		if got := routes(); !slices.Equal(got, []string{"0.0.0.0/0", "192.0.2.0/24"}) {
			t.Fatalf("main table: %v", got)
		}
		// An explicit association wins over the main table.
		step(func(ctx context.Context, tx *store.Tx) error {
			return tx.InsertRouteTableAssociation(ctx, store.RouteTableAssociation{ID: "rtbassoc-1", AccountID: w.acct,
				RouteTableID: "rtb-other", SubnetID: "subnet-1", CreatedAt: now})
		})
		if got := routes(); !slices.Equal(got, []string{"198.51.100.0/24"}) {
			t.Fatalf("associated table: %v", got)
		}
		step(func(ctx context.Context, tx *store.Tx) error {
			return tx.SetInternetGatewayVPC(ctx, w.acct, "igw-1", "")
		})
		if got := routes(); len(got) != 0 {
			t.Fatalf("gateway detached again: %v", got)
		}
	})
}
