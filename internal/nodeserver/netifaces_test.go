package nodeserver_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func specOf(t *testing.T, h *harness, nodeID, instanceID string) nodeapi.InstanceSpec {
	t.Helper()
	d, err := h.srv.Desired(t.Context(), nodeID)
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range d.Instances {
		if sp.ID == instanceID {
			return sp
		}
	}
	t.Fatalf("%s not in node %s's desired state", instanceID, nodeID)
	return nodeapi.InstanceSpec{}
}

func vpcOf(t *testing.T, h *harness, nodeID, vpcID string) nodeapi.VPCNetwork {
	t.Helper()
	d, err := h.srv.Desired(t.Context(), nodeID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range d.VPCs {
		if v.VPCID == vpcID {
			return v
		}
	}
	t.Fatalf("%s not in node %s's desired state", vpcID, nodeID)
	return nodeapi.VPCNetwork{}
}

func members(v nodeapi.VPCNetwork, group string) []string {
	for _, g := range v.SecurityGroups {
		if g.ID == group {
			return g.Members
		}
	}
	return nil
}

// TestDesiredCarriesEveryInterface: on the VPC scene, guest .20 on node 2
// gets a second interface (.80, secondary .81, group admin, no source/dest
// check) and the fixture's instance on node 1 a secondary address (.11)
// with an elastic IP, and its subnet a route to an attached gateway.
func TestDesiredCarriesEveryInterface(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		sc := seedVPCScene(t, h)
		f, now := sc.f, time.Now()
		guest20 := "i-00000000000000020"
		extra := store.NetworkInterface{ID: "eni-00000000000000080", AccountID: f.account, SubnetID: f.subnet, VPCID: f.vpc,
			PrivateIP: "10.0.1.80", MAC: "02:AB:CD:00:02:80", InstanceID: guest20, DeviceIndex: 1, CreatedAt: now,
			AttachmentID: "eni-attach-00000000000000080", AttachTime: now}
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			primary, err := tx.GetNetworkInterface(ctx, f.account, f.eni)
			if err != nil {
				return err
			}
			eip := store.Address{AllocationID: "eipalloc-00000000000000001", AccountID: f.account, PublicIP: "192.0.2.8", CreatedAt: now}
			return errors.Join(
				tx.InsertNetworkInterface(ctx, extra),
				tx.SetNetworkInterfaceGroups(ctx, extra.ID, []string{sc.admin}),
				tx.AddSecondaryIPs(ctx, extra, []string{"10.0.1.81"}),
				tx.AddSecondaryIPs(ctx, primary, []string{"10.0.1.11"}),
				tx.InsertAddress(ctx, eip),
				tx.SetAddressAssociation(ctx, store.Address{AccountID: f.account, AllocationID: eip.AllocationID,
					AssociationID: "eipassoc-00000000000000001", NetworkInterfaceID: f.eni, PrivateIP: "10.0.1.11"}),
				tx.InsertRouteTable(ctx, store.RouteTable{ID: "rtb-00000000000000001", AccountID: f.account, VPCID: f.vpc,
					MainAssociationID: "rtbassoc-00000000000000001", CreatedAt: now}),
				tx.InsertInternetGateway(ctx, store.InternetGateway{ID: "igw-00000000000000001", AccountID: f.account, VPCID: f.vpc, CreatedAt: now}),
				tx.PutRoute(ctx, store.Route{RouteTableID: "rtb-00000000000000001", DestinationCIDR: "0.0.0.0/0",
					GatewayID: "igw-00000000000000001", Origin: "CreateRoute", CreatedAt: now}),
			)
		})
		// Node 1: its instance's primary interface.
		n := specOf(t, h, sc.n1, f.instance).Network
		if n.DeviceIndex != 0 || !slices.Equal(n.SecondaryIPs, []string{"10.0.1.11"}) || !slices.Equal(n.SecurityGroupIDs, []string{sc.web}) ||
			n.NoSourceDestCheck || n.PublicIP != "" || !reflect.DeepEqual(n.PublicIPs, map[string]string{"192.0.2.8": "10.0.1.11"}) ||
			!slices.Equal(n.InternetRoutes, []string{"0.0.0.0/0"}) {
			t.Errorf("node 1 primary interface: %s", jsonOf(n))
		}
		v1 := vpcOf(t, h, sc.n1, f.vpc)
		if len(v1.Peers) != 1 || !slices.Equal(v1.Peers[0].Guests, []string{"10.0.1.20", "10.0.1.30", "10.0.1.80", "10.0.1.81"}) {
			t.Errorf("node 1 peers: %s", jsonOf(v1.Peers))
		}
		if got := members(v1, sc.admin); !slices.Equal(got, []string{"10.0.1.30", "10.0.1.80", "10.0.1.81"}) {
			t.Errorf("admin members seen by node 1: %v", got)
		}
		if got := members(v1, sc.web); !slices.Equal(got, []string{"10.0.1.10", "10.0.1.11", "10.0.1.20", "10.0.1.60", "10.0.1.70"}) {
			t.Errorf("web members seen by node 1: %v", got)
		}
		// Node 2: guest .20's second interface, and the primary's secondary address among its peers.
		sp := specOf(t, h, sc.n2, guest20)
		if len(sp.Extra) != 1 {
			t.Fatalf("guest .20 extra interfaces: %s", jsonOf(sp.Extra))
		}
		x := sp.Extra[0]
		if x.InterfaceID != extra.ID || x.DeviceIndex != 1 || x.MAC != "02:ab:cd:00:02:80" || x.PrivateIP != "10.0.1.80" ||
			!slices.Equal(x.SecondaryIPs, []string{"10.0.1.81"}) || !slices.Equal(x.SecurityGroupIDs, []string{sc.admin}) || x.NoSourceDestCheck ||
			x.SubnetCIDR != "10.0.1.0/24" || x.Gateway != "10.0.1.1" || x.VPCCIDR != "10.0.0.0/16" || !slices.Equal(x.InternetRoutes, []string{"0.0.0.0/0"}) {
			t.Errorf("extra interface: %s", jsonOf(x))
		}
		if sp.Network.InterfaceID != "eni-00000000000000020" || len(sp.Network.SecondaryIPs) != 0 {
			t.Errorf("guest .20 primary: %s", jsonOf(sp.Network))
		}
		v2 := vpcOf(t, h, sc.n2, f.vpc)
		if len(v2.Peers) != 1 || !slices.Equal(v2.Peers[0].Guests, []string{"10.0.1.10", "10.0.1.11"}) {
			t.Errorf("node 2 peers: %s", jsonOf(v2.Peers))
		}
		// Source/dest check off, then detached: it leaves the spec, the peers and the members.
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			extra.NoSourceDestCheck = true
			return tx.UpdateNetworkInterface(ctx, extra)
		})
		if x := specOf(t, h, sc.n2, guest20).Extra; len(x) != 1 || !x[0].NoSourceDestCheck {
			t.Errorf("source/dest check off: %s", jsonOf(x))
		}
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			extra.InstanceID, extra.DeviceIndex, extra.AttachmentID, extra.AttachTime = "", 0, "", time.Time{}
			return tx.UpdateNetworkInterface(ctx, extra)
		})
		if x := specOf(t, h, sc.n2, guest20).Extra; len(x) != 0 {
			t.Errorf("detached interface still in the spec: %s", jsonOf(x))
		}
		v1 = vpcOf(t, h, sc.n1, f.vpc)
		if len(v1.Peers) != 1 || !slices.Equal(v1.Peers[0].Guests, []string{"10.0.1.20", "10.0.1.30"}) {
			t.Errorf("node 1 peers after detach: %s", jsonOf(v1.Peers))
		}
		if got := members(v1, sc.admin); !slices.Equal(got, []string{"10.0.1.30"}) {
			t.Errorf("admin members after detach: %v", got)
		}
	})
}
