package ec2

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func TestAddressAllocation(t *testing.T) {
	p := netip.MustParsePrefix("10.0.1.0/28")
	for _, c := range []struct {
		ip       string
		reserved bool
	}{{"10.0.1.0", true}, {"10.0.1.1", true}, {"10.0.1.3", true}, {"10.0.1.4", false}, {"10.0.1.14", false}, {"10.0.1.15", true}} {
		if got := reservedIP(p, netip.MustParseAddr(c.ip)); got != c.reserved {
			t.Errorf("reservedIP(%s) = %v", c.ip, got)
		}
	}
	ip, err := nextFreeIP(p, []string{"10.0.1.4", "10.0.1.6"})
	if err != nil || ip.String() != "10.0.1.5" {
		t.Fatalf("nextFreeIP: %v %v", ip, err)
	}
	var used []string
	for a := netip.MustParseAddr("10.0.1.4"); a.Less(netip.MustParseAddr("10.0.1.15")); a = a.Next() {
		used = append(used, a.String())
	}
	if _, err := nextFreeIP(p, used); err == nil {
		t.Fatal("a full subnet gave an address")
	}
	if _, err := checkRequestedIP(p, "10.0.2.4", nil); err == nil {
		t.Fatal("an address outside the subnet was accepted")
	}
	if _, err := checkRequestedIP(p, "10.0.1.7", []string{"10.0.1.7"}); err == nil {
		t.Fatal("an address in use was accepted")
	}
	mac, err := newMAC()
	if err != nil || len(mac) != 17 || mac[:3] != "02:" {
		t.Fatalf("newMAC: %q %v", mac, err)
	}
}

// TestNotify checks that committed changes name the nodes that must act.
func TestNotify(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		acct, node, img := ids.Account(), ids.Resource("node"), ids.Resource("ami")
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.InsertAccount(ctx, store.Account{ID: acct, Name: "a", CreatedAt: time.Now()}); err != nil {
				return err
			}
			if err := tx.InsertNode(ctx, store.Node{ID: node, Name: "h1", Zone: "z-1a", State: "ready", VCPUs: 4, MemoryMiB: 4096, DiskGiB: 100,
				LastSeen: time.Now(), CreatedAt: time.Now()}); err != nil {
				return err
			}
			return tx.InsertImage(ctx, store.Image{ID: img, AccountID: acct, Name: "img", ImageType: "machine", State: "available",
				Architecture: "x86_64", RootDeviceType: "instance-store", VirtualizationType: "hvm", CreatedAt: time.Now()})
		})
		s := New(db, Config{Region: "z-1", Zones: []string{"z-1a"}})
		var got [][]string
		s.Notify = func(nodeIDs ...string) { got = append(got, nodeIDs) }
		ctx := identity.WithPrincipal(context.Background(), identity.Principal{AccountID: acct})
		min, max := int32(2), int32(2)
		res, err := s.RunInstances(ctx, &ec2api.RunInstancesRequest{ImageId: &img, MinCount: &min, MaxCount: &max})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || !slices.Equal(got[0], []string{node}) {
			t.Fatalf("RunInstances notified %v, want [[%s]]", got, node)
		}
		id := *res.Instances[0].InstanceId
		if _, err := s.RebootInstances(ctx, &ec2api.RebootInstancesRequest{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RebootInstances(ctx, &ec2api.RebootInstancesRequest{InstanceIds: []string{"i-00000000000000000"}}); err == nil {
			t.Fatal("reboot of an unknown instance succeeded")
		}
		if len(got) != 2 || !slices.Equal(got[1], []string{node}) {
			t.Fatalf("notifications %v", got)
		}
	})
}
