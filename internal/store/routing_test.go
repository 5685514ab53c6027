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

func TestRouting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		ctx := context.Background()
		acct := "123456789012"
		now := time.Now()
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			for _, err := range []error{
				tx.InsertAccount(ctx, store.Account{ID: acct, Name: "a", CreatedAt: now}),
				tx.InsertVPC(ctx, store.VPC{ID: "vpc-1", AccountID: acct, CIDRBlock: "10.0.0.0/16", State: "available", InstanceTenancy: "default", CreatedAt: now}),
				tx.InsertVPC(ctx, store.VPC{ID: "vpc-2", AccountID: acct, CIDRBlock: "10.1.0.0/16", State: "available", InstanceTenancy: "default", CreatedAt: now}),
				tx.InsertSubnet(ctx, store.Subnet{ID: "subnet-1", AccountID: acct, VPCID: "vpc-1", CIDRBlock: "10.0.1.0/24", State: "available", CreatedAt: now}),
				tx.InsertInternetGateway(ctx, store.InternetGateway{ID: "igw-1", AccountID: acct, VPCID: "vpc-1", CreatedAt: now}),
				tx.InsertInternetGateway(ctx, store.InternetGateway{ID: "igw-2", AccountID: acct, CreatedAt: now}),
				tx.InsertRouteTable(ctx, store.RouteTable{ID: "rtb-main", AccountID: acct, VPCID: "vpc-1", MainAssociationID: "rtbassoc-m", CreatedAt: now}),
				tx.InsertRouteTable(ctx, store.RouteTable{ID: "rtb-2", AccountID: acct, VPCID: "vpc-1", CreatedAt: now}),
				tx.PutRoute(ctx, store.Route{RouteTableID: "rtb-main", DestinationCIDR: "10.0.0.0/16", GatewayID: "local", Origin: "CreateRouteTable", CreatedAt: now}),
				tx.PutRoute(ctx, store.Route{RouteTableID: "rtb-2", DestinationCIDR: "0.0.0.0/0", GatewayID: "igw-1", Origin: "CreateRoute", CreatedAt: now}),
				tx.InsertRouteTableAssociation(ctx, store.RouteTableAssociation{ID: "rtbassoc-1", AccountID: acct, RouteTableID: "rtb-2", SubnetID: "subnet-1", CreatedAt: now}),
			} {
				if err != nil {
					return err
				}
			}
			return nil
		})
		conflict := func(name string, fn func(ctx context.Context, tx *store.Tx) error) {
			t.Helper()
			if err := db.Update(ctx, fn); !errors.Is(err, store.ErrConflict) {
				t.Errorf("%s: %v, want ErrConflict", name, err)
			}
		}
		conflict("second gateway on a VPC", func(ctx context.Context, tx *store.Tx) error {
			return tx.SetInternetGatewayVPC(ctx, acct, "igw-2", "vpc-1")
		})
		conflict("second main table", func(ctx context.Context, tx *store.Tx) error {
			return tx.InsertRouteTable(ctx, store.RouteTable{ID: "rtb-3", AccountID: acct, VPCID: "vpc-1", MainAssociationID: "rtbassoc-x", CreatedAt: now})
		})
		conflict("duplicate destination", func(ctx context.Context, tx *store.Tx) error {
			return tx.PutRoute(ctx, store.Route{RouteTableID: "rtb-2", DestinationCIDR: "0.0.0.0/0", GatewayID: "igw-2", Origin: "CreateRoute", CreatedAt: now})
		})
		conflict("second association of a subnet", func(ctx context.Context, tx *store.Tx) error {
			return tx.InsertRouteTableAssociation(ctx, store.RouteTableAssociation{ID: "rtbassoc-2", AccountID: acct, RouteTableID: "rtb-main", SubnetID: "subnet-1", CreatedAt: now})
		})

		var tables []store.RouteTable
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) (err error) {
			if err := tx.SetMainRouteTable(ctx, acct, "vpc-1", "rtb-2", "rtbassoc-m2"); err != nil {
				return err
			}
			tables, err = tx.ListRouteTables(ctx, acct)
			return err
		})
		if len(tables) != 2 || tables[0].ID != "rtb-2" || tables[0].MainAssociationID != "rtbassoc-m2" || tables[1].MainAssociationID != "" ||
			len(tables[0].Routes) != 1 || tables[0].Routes[0].GatewayID != "igw-1" || len(tables[0].Associations) != 1 || tables[0].Associations[0].SubnetID != "subnet-1" {
			t.Fatalf("tables after moving main: %+v", tables)
		}

		// The subnet cannot go while associated; DeleteSubnetAssociation frees it.
		if err := db.Update(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteSubnet(ctx, acct, "subnet-1") }); !errors.Is(err, store.ErrInUse) {
			t.Errorf("deleting an associated subnet: %v, want ErrInUse", err)
		}
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.DeleteSubnetAssociation(ctx, acct, "subnet-1"); err != nil {
				return err
			}
			return tx.DeleteSubnet(ctx, acct, "subnet-1")
		})
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.DeleteRoute(ctx, "rtb-2", "0.0.0.0/0"); err != nil {
				return err
			}
			if err := tx.DeleteRoute(ctx, "rtb-2", "0.0.0.0/0"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("deleting a missing route: %v", err)
			}
			if err := tx.DeleteRouteTable(ctx, acct, "rtb-main"); err != nil {
				return err
			}
			if err := tx.DeleteMainRouteTable(ctx, acct, "vpc-1"); err != nil {
				return err
			}
			if err := tx.SetInternetGatewayVPC(ctx, acct, "igw-1", ""); err != nil {
				return err
			}
			return tx.DeleteVPC(ctx, acct, "vpc-1")
		})
	})
}

func TestDHCPOptionsStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		ctx := context.Background()
		acct := "123456789012"
		now := time.Now()
		opts := store.DHCPOptions{ID: "dopt-1", AccountID: acct, CreatedAt: now, Configurations: []store.DHCPConfiguration{
			{Key: "domain-name", Values: []string{"corp.example"}},
			{Key: "domain-name-servers", Values: []string{"10.0.0.2", "AmazonProvidedDNS"}},
			{Key: "ntp-servers", Values: []string{"10.0.0.3"}},
		}}
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.InsertAccount(ctx, store.Account{ID: acct, Name: "a", CreatedAt: now}); err != nil {
				return err
			}
			if err := tx.InsertVPC(ctx, store.VPC{ID: "vpc-1", AccountID: acct, CIDRBlock: "10.0.0.0/16", State: "available", InstanceTenancy: "default", CreatedAt: now}); err != nil {
				return err
			}
			if err := tx.InsertDHCPOptions(ctx, opts); err != nil {
				return err
			}
			return tx.SetVPCDHCPOptions(ctx, "vpc-1", "dopt-1")
		})
		var got store.VPCDHCP
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) (err error) {
			got, err = tx.DHCPForVPC(ctx, "vpc-1")
			return err
		})
		if got.DHCPOptionsID != "dopt-1" || got.DomainName != "corp.example" || !slices.Equal(got.DomainNameServers, []string{"10.0.0.2", "AmazonProvidedDNS"}) ||
			!slices.Equal(got.NTPServers, []string{"10.0.0.3"}) {
			t.Errorf("DHCPForVPC = %+v", got)
		}
		if err := db.Update(ctx, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteDHCPOptions(ctx, acct, "dopt-1") }); !errors.Is(err, store.ErrInUse) {
			t.Errorf("deleting a set in use: %v, want ErrInUse", err)
		}
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) (err error) {
			if err := tx.SetVPCDHCPOptions(ctx, "vpc-1", ""); err != nil {
				return err
			}
			if got, err = tx.DHCPForVPC(ctx, "vpc-1"); err != nil {
				return err
			}
			return tx.DeleteDHCPOptions(ctx, acct, "dopt-1")
		})
		if got.DHCPOptionsID != "" || got.DomainName != "" {
			t.Errorf("DHCPForVPC with no set = %+v", got)
		}
	})
}
