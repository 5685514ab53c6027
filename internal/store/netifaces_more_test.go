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

// eniWorld is one account with a VPC, a subnet, two groups, two nodes and
// an instance on each node.
type eniWorld struct {
	db   *store.DB
	acct string
}

func newENIWorld(t *testing.T, b storetest.Backend) eniWorld {
	t.Helper()
	w := eniWorld{db: storetest.Open(t, b), acct: "123456789012"}
	now := time.Now()
	storetest.MustUpdate(t, w.db, func(ctx context.Context, tx *store.Tx) error {
		steps := []func() error{
			func() error { return tx.InsertAccount(ctx, store.Account{ID: w.acct, Name: "a", CreatedAt: now}) },
			func() error {
				return tx.InsertVPC(ctx, store.VPC{ID: "vpc-1", AccountID: w.acct, CIDRBlock: "10.0.0.0/16", State: "available",
					InstanceTenancy: "default", CreatedAt: now})
			},
			func() error {
				return tx.InsertSubnet(ctx, store.Subnet{ID: "subnet-1", AccountID: w.acct, VPCID: "vpc-1", CIDRBlock: "10.0.1.0/24",
					AvailabilityZone: "kumo-1a", State: "available", CreatedAt: now})
			},
			func() error {
				return tx.InsertSecurityGroup(ctx, store.SecurityGroup{ID: "sg-1", AccountID: w.acct, VPCID: "vpc-1", Name: "web", CreatedAt: now})
			},
			func() error {
				return tx.InsertSecurityGroup(ctx, store.SecurityGroup{ID: "sg-2", AccountID: w.acct, VPCID: "vpc-1", Name: "db", CreatedAt: now})
			},
			func() error {
				return tx.InsertNode(ctx, store.Node{ID: "node-a", Name: "a", Zone: "kumo-1a", State: "ready", Address: "198.18.0.1", CreatedAt: now})
			},
			func() error {
				return tx.InsertNode(ctx, store.Node{ID: "node-b", Name: "b", Zone: "kumo-1a", State: "ready", Address: "198.18.0.2", CreatedAt: now})
			},
			func() error {
				return tx.InsertInstance(ctx, store.Instance{ID: "i-a", AccountID: w.acct, ReservationID: "r-1", State: "running",
					VPCID: "vpc-1", SubnetID: "subnet-1", NodeID: "node-a", SecurityGroupIDs: []string{"sg-1"}, CreatedAt: now})
			},
			func() error {
				return tx.InsertInstance(ctx, store.Instance{ID: "i-b", AccountID: w.acct, ReservationID: "r-2", State: "running",
					VPCID: "vpc-1", SubnetID: "subnet-1", NodeID: "node-b", SecurityGroupIDs: []string{"sg-1"}, CreatedAt: now})
			},
			func() error { return tx.InsertNetworkInterface(ctx, w.eni("eni-a0", "10.0.1.4", "i-a", 0, true)) },
			func() error { return tx.InsertNetworkInterface(ctx, w.eni("eni-b0", "10.0.1.5", "i-b", 0, true)) },
			// A second interface on instance b, in group sg-2 only.
			func() error { return tx.InsertNetworkInterface(ctx, w.eni("eni-b1", "10.0.1.6", "i-b", 1, false)) },
			func() error { return tx.SetNetworkInterfaceGroups(ctx, "eni-b1", []string{"sg-2"}) },
		}
		for _, s := range steps {
			if err := s(); err != nil {
				return err
			}
		}
		return nil
	})
	return w
}

func (w eniWorld) eni(id, ip, inst string, index int, dot bool) store.NetworkInterface {
	n := store.NetworkInterface{ID: id, AccountID: w.acct, SubnetID: "subnet-1", VPCID: "vpc-1", PrivateIP: ip,
		MAC: "02:00:00:00:00:" + id[len(id)-2:], InstanceID: inst, DeviceIndex: index, CreatedAt: time.Now(),
		DeleteOnTermination: dot}
	if inst != "" {
		n.AttachmentID, n.AttachTime = "eni-attach-"+id[4:], time.Now()
	}
	return n
}

func TestNetworkInterfaceDetailsAndOverlay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		w := newENIWorld(t, b)
		storetest.MustUpdate(t, w.db, func(ctx context.Context, tx *store.Tx) error {
			b1, err := tx.GetNetworkInterface(ctx, w.acct, "eni-b1")
			if err != nil {
				return err
			}
			return tx.AddSecondaryIPs(ctx, b1, []string{"10.0.1.20", "10.0.1.21"})
		})
		// A secondary address is unique on its subnet.
		err := w.db.Update(context.Background(), func(ctx context.Context, tx *store.Tx) error {
			return tx.AddSecondaryIPs(ctx, w.eni("eni-a0", "10.0.1.4", "", 0, false), []string{"10.0.1.20"})
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate secondary address: %v, want ErrConflict", err)
		}
		storetest.MustUpdate(t, w.db, func(ctx context.Context, tx *store.Tx) error {
			b1, err := tx.GetNetworkInterface(ctx, w.acct, "eni-b1")
			if err != nil {
				return err
			}
			if !slices.Equal(b1.SecondaryIPs, []string{"10.0.1.20", "10.0.1.21"}) || !slices.Equal(b1.GroupIDs, []string{"sg-2"}) ||
				b1.Zone != "kumo-1a" || b1.Status() != "in-use" || !b1.SourceDestCheck() {
				t.Errorf("eni-b1 = %+v", b1)
			}
			a0, err := tx.GetNetworkInterface(ctx, w.acct, "eni-a0")
			if err != nil {
				return err
			}
			if !a0.Primary() || !slices.Equal(a0.GroupIDs, []string{"sg-1"}) {
				t.Errorf("primary eni-a0 groups %v, want the instance's [sg-1]", a0.GroupIDs)
			}
			ips, err := tx.SubnetPrivateIPs(ctx, "subnet-1")
			slices.Sort(ips)
			if err != nil || !slices.Equal(ips, []string{"10.0.1.20", "10.0.1.21", "10.0.1.4", "10.0.1.5", "10.0.1.6"}) {
				t.Errorf("SubnetPrivateIPs = %v, %v", ips, err)
			}
			h, err := tx.SubnetIPHolder(ctx, "subnet-1", "10.0.1.21")
			if err != nil || h.InterfaceID != "eni-b1" || !h.Secondary {
				t.Errorf("SubnetIPHolder = %+v, %v", h, err)
			}
			if _, err := tx.SubnetIPHolder(ctx, "subnet-1", "10.0.1.99"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("free address holder: %v", err)
			}
			// Node a sees node b's guests: both interfaces, every address.
			peers, err := tx.VPCInterfacePeers(ctx, "vpc-1", "node-a")
			if err != nil || len(peers) != 1 || peers[0].Address != "198.18.0.2" ||
				!slices.Equal(peers[0].Guests, []string{"10.0.1.20", "10.0.1.21", "10.0.1.5", "10.0.1.6"}) {
				t.Errorf("VPCInterfacePeers = %+v, %v", peers, err)
			}
			m1, err := tx.GroupMemberAddresses(ctx, "sg-1")
			if err != nil || !slices.Equal(m1, []string{"10.0.1.4", "10.0.1.5"}) {
				t.Errorf("sg-1 members = %v, %v", m1, err)
			}
			m2, err := tx.GroupMemberAddresses(ctx, "sg-2")
			if err != nil || !slices.Equal(m2, []string{"10.0.1.20", "10.0.1.21", "10.0.1.6"}) {
				t.Errorf("sg-2 members = %v, %v", m2, err)
			}
			ga, err := tx.NodeInterfaceGroups(ctx, "node-a", "vpc-1")
			if err != nil || !slices.Equal(ga, []string{"sg-1"}) {
				t.Errorf("node a groups = %v, %v", ga, err)
			}
			gb, err := tx.NodeInterfaceGroups(ctx, "node-b", "vpc-1")
			if err != nil || !slices.Equal(gb, []string{"sg-1", "sg-2"}) {
				t.Errorf("node b groups = %v, %v", gb, err)
			}
			nets, err := tx.InstanceInterfaceNetworks(ctx, "i-b")
			if err != nil || len(nets) != 2 || nets[0].ID != "eni-b0" || nets[1].ID != "eni-b1" || nets[1].SubnetCIDR != "10.0.1.0/24" ||
				nets[1].VPCCIDR != "10.0.0.0/16" || len(nets[1].SecondaryIPs) != 2 || !slices.Equal(nets[0].GroupIDs, []string{"sg-1"}) {
				t.Errorf("InstanceInterfaceNetworks = %+v, %v", nets, err)
			}
			if in, err := tx.GroupHasInterfaces(ctx, "sg-2"); err != nil || !in {
				t.Errorf("GroupHasInterfaces(sg-2) = %v, %v", in, err)
			}
			if in, err := tx.GroupHasInterfaces(ctx, "sg-1"); err != nil || in { // only primaries: the instances' groups
				t.Errorf("GroupHasInterfaces(sg-1) = %v, %v", in, err)
			}
			if in, err := tx.SubnetHasInterfaces(ctx, "subnet-1"); err != nil || !in {
				t.Errorf("SubnetHasInterfaces = %v, %v", in, err)
			}
			// Unassigning drops the address everywhere.
			if err := tx.RemoveSecondaryIPs(ctx, "eni-b1", []string{"10.0.1.20"}); err != nil {
				return err
			}
			m2, _ = tx.GroupMemberAddresses(ctx, "sg-2")
			if !slices.Equal(m2, []string{"10.0.1.21", "10.0.1.6"}) {
				t.Errorf("sg-2 members after unassign = %v", m2)
			}
			return nil
		})
	})
}

func TestSettleTerminatedInterfaces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		w := newENIWorld(t, b)
		ctx := context.Background()
		storetest.MustUpdate(t, w.db, func(ctx context.Context, tx *store.Tx) error {
			b1, _ := tx.GetNetworkInterface(ctx, w.acct, "eni-b1")
			if err := tx.AddSecondaryIPs(ctx, b1, []string{"10.0.1.30"}); err != nil {
				return err
			}
			i, err := tx.GetInstance(ctx, w.acct, "i-b")
			if err != nil {
				return err
			}
			i.State = "terminated"
			return tx.UpdateInstance(ctx, i)
		})
		check := func(when string) {
			t.Helper()
			err := w.db.View(ctx, func(ctx context.Context, tx *store.Tx) error {
				if _, err := tx.GetNetworkInterface(ctx, w.acct, "eni-b0"); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: the primary (delete on termination) reads as %v", when, err)
				}
				b1, err := tx.GetNetworkInterface(ctx, w.acct, "eni-b1")
				if err != nil {
					return err
				}
				if b1.Attached() || b1.AttachmentID != "" || b1.Status() != "available" || !slices.Equal(b1.SecondaryIPs, []string{"10.0.1.30"}) {
					t.Errorf("%s: eni-b1 = %+v, want detached with its address", when, b1)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		check("read time")
		storetest.MustUpdate(t, w.db, func(ctx context.Context, tx *store.Tx) error { return tx.SettleTerminatedInterfaces(ctx, w.acct) })
		check("settled")
		storetest.MustUpdate(t, w.db, func(ctx context.Context, tx *store.Tx) error {
			ips, err := tx.SubnetPrivateIPs(ctx, "subnet-1")
			slices.Sort(ips)
			if err != nil || !slices.Equal(ips, []string{"10.0.1.30", "10.0.1.4", "10.0.1.6"}) {
				t.Errorf("after settling, subnet addresses %v, %v (the deleted primary's must be free)", ips, err)
			}
			// The reaper of old terminated instances keeps detached interfaces.
			if _, err := tx.DeleteTerminatedInstancesBefore(ctx, time.Now().Add(time.Hour)); err != nil {
				return err
			}
			if _, err := tx.GetNetworkInterface(ctx, w.acct, "eni-b1"); err != nil {
				t.Errorf("eni-b1 after the instance was reaped: %v", err)
			}
			if err := tx.DeleteNetworkInterface(ctx, w.acct, "eni-b1"); err != nil {
				return err
			}
			if err := tx.DeleteNetworkInterface(ctx, w.acct, "eni-b1"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("second delete: %v", err)
			}
			ips, _ = tx.SubnetPrivateIPs(ctx, "subnet-1")
			if !slices.Equal(ips, []string{"10.0.1.4"}) {
				t.Errorf("after delete, subnet addresses %v", ips)
			}
			return nil
		})
	})
}

func TestDetachedPrimaryKeepsInstanceGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		w := newENIWorld(t, b)
		storetest.MustUpdate(t, w.db, func(ctx context.Context, tx *store.Tx) error {
			a0, err := tx.GetNetworkInterface(ctx, w.acct, "eni-a0")
			if err != nil {
				return err
			}
			a0.DeleteOnTermination = false
			if err := tx.UpdateNetworkInterface(ctx, a0); err != nil {
				return err
			}
			i, err := tx.GetInstance(ctx, w.acct, "i-a")
			if err != nil {
				return err
			}
			i.State = "terminated"
			if err := tx.UpdateInstance(ctx, i); err != nil {
				return err
			}
			if err := tx.SettleTerminatedInterfaces(ctx, ""); err != nil {
				return err
			}
			a0, err = tx.GetNetworkInterface(ctx, w.acct, "eni-a0")
			if err != nil || a0.Attached() || !slices.Equal(a0.GroupIDs, []string{"sg-1"}) {
				t.Errorf("detached primary = %+v, %v; want available with groups [sg-1]", a0, err)
			}
			return nil
		})
	})
}
