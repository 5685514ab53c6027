package nodeserver_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// The node learns its VPCs' resolvers: attributes and the names of every
// interface of the VPC (also those on no node, or another), with their
// public addresses; DHCP hands out the resolver (the VPC's base plus two)
// for AmazonProvidedDNS while enableDnsSupport is on.
func TestDesiredCarriesTheVPCResolver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c, _ := h.join(t, "host-1")
		f := seedInstance(t, h.db, c.NodeID())
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			now := time.Now()
			o := store.DHCPOptions{ID: "dopt-00000000000000001", AccountID: f.account, IsDefault: true, CreatedAt: now, Configurations: []store.DHCPConfiguration{
				{Key: "domain-name", Values: []string{"kumo-1.compute.internal"}},
				{Key: "domain-name-servers", Values: []string{"AmazonProvidedDNS"}}}}
			return errors.Join(
				tx.SetVPCAttribute(ctx, f.account, f.vpc, true, true),
				tx.InsertDHCPOptions(ctx, o), tx.SetVPCDHCPOptions(ctx, f.vpc, o.ID),
				// A detached interface of the VPC, with an elastic IP.
				tx.InsertNetworkInterface(ctx, store.NetworkInterface{ID: "eni-00000000000000002", AccountID: f.account, SubnetID: f.subnet,
					VPCID: f.vpc, PrivateIP: "10.0.1.20", MAC: "02:ab:cd:00:00:02", CreatedAt: now}),
				tx.InsertAddress(ctx, store.Address{AllocationID: "eipalloc-00000000000000001", AccountID: f.account, PublicIP: "198.51.100.2",
					AssociationID: "eipassoc-00000000000000001", NetworkInterfaceID: "eni-00000000000000002", PrivateIP: "10.0.1.20", CreatedAt: now}),
			)
		})
		d, err := h.srv.Desired(t.Context(), c.NodeID())
		if err != nil || len(d.Instances) != 1 || len(d.VPCs) != 1 {
			t.Fatalf("desired %+v %v", d, err)
		}
		if n := d.Instances[0].Network; !slices.Equal(n.DNS, []string{"10.0.0.2"}) || n.DomainName != "kumo-1.compute.internal" {
			t.Errorf("DHCP: DNS %v domain %q, want [10.0.0.2] kumo-1.compute.internal", n.DNS, n.DomainName)
		}
		want := &nodeapi.VPCDNS{Region: "kumo-1", CIDR: "10.0.0.0/16", Support: true, Hostnames: true,
			Names: []nodeapi.DNSName{{PrivateIP: "10.0.1.10"}, {PrivateIP: "10.0.1.20", PublicIP: "198.51.100.2"}}}
		if got := d.VPCs[0].DNS; got == nil || got.Region != want.Region || got.CIDR != want.CIDR || !got.Support || !got.Hostnames ||
			!slices.Equal(got.Names, want.Names) {
			t.Errorf("resolver %+v, want %+v", got, want)
		}
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			return tx.SetVPCAttribute(ctx, f.account, f.vpc, false, false)
		})
		d, err = h.srv.Desired(t.Context(), c.NodeID())
		if err != nil {
			t.Fatal(err)
		}
		if n := d.Instances[0].Network; len(n.DNS) != 0 || d.VPCs[0].DNS == nil || d.VPCs[0].DNS.Support {
			t.Errorf("enableDnsSupport off: DHCP DNS %v, resolver %+v", n.DNS, d.VPCs[0].DNS)
		}
	})
}
