package nodeserver_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestSubnetRoutesReachTheNode: routes of the subnet's table to an
// instance (its primary address) and to a detached gateway (a blackhole)
// are in every interface of the subnet; local and internet routes are not.
func TestSubnetRoutesReachTheNode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		sc := seedVPCScene(t, h)
		f, now := sc.f, time.Now()
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			put := func(r store.Route) error {
				r.RouteTableID, r.Origin, r.CreatedAt = "rtb-00000000000000001", "CreateRoute", now
				return tx.PutRoute(ctx, r)
			}
			return errors.Join(
				tx.InsertRouteTable(ctx, store.RouteTable{ID: "rtb-00000000000000001", AccountID: f.account, VPCID: f.vpc,
					MainAssociationID: "rtbassoc-00000000000000001", CreatedAt: now}),
				tx.InsertInternetGateway(ctx, store.InternetGateway{ID: "igw-00000000000000002", AccountID: f.account, CreatedAt: now}),
				put(store.Route{DestinationCIDR: "10.0.0.0/16", GatewayID: "local"}),
				put(store.Route{DestinationCIDR: "0.0.0.0/0", InstanceID: "i-00000000000000020"}),
				put(store.Route{DestinationCIDR: "198.51.100.0/24", GatewayID: "igw-00000000000000002"}),
			)
		})
		want := []nodeapi.Route{{Destination: "0.0.0.0/0", NextHop: "10.0.1.20"}, {Destination: "198.51.100.0/24"}}
		if got := specOf(t, h, sc.n1, f.instance).Network.Routes; !reflect.DeepEqual(got, want) {
			t.Errorf("routes of node 1's guest: %s, want %s", jsonOf(got), jsonOf(want))
		}
		if got := specOf(t, h, sc.n2, "i-00000000000000030").Network.Routes; !reflect.DeepEqual(got, want) {
			t.Errorf("routes of node 2's guest: %s", jsonOf(got))
		}
	})
}
