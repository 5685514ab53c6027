package ec2

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/awsapi"
	"github.com/kumo-cloud/kumo/internal/awsapi/ec2api"
	"github.com/kumo-cloud/kumo/internal/identity"
	"github.com/kumo-cloud/kumo/internal/ids"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// TestElasticIPNotifiesNodes checks that association changes name the
// nodes whose NAT must change, and that an empty pool allocates nothing.
func TestElasticIPNotifiesNodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		db := storetest.Open(t, b)
		acct, img := ids.Account(), ids.Resource("ami")
		nodes := []string{ids.Resource("node"), ids.Resource("node")}
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			errs := []error{tx.InsertAccount(ctx, store.Account{ID: acct, Name: "a", CreatedAt: time.Now()}),
				tx.InsertImage(ctx, store.Image{ID: img, AccountID: acct, Name: "img", ImageType: "machine", State: "available",
					Architecture: "x86_64", RootDeviceType: "instance-store", VirtualizationType: "hvm", CreatedAt: time.Now()})}
			for n, id := range nodes { // room for one t3.micro each
				errs = append(errs, tx.InsertNode(ctx, store.Node{ID: id, Name: "h" + string(rune('1'+n)), Zone: "z-1a", State: "ready",
					VCPUs: 2, MemoryMiB: 1024, DiskGiB: 100, LastSeen: time.Now(), CreatedAt: time.Now()}))
			}
			return errors.Join(errs...)
		})
		ctx := identity.WithPrincipal(context.Background(), identity.Principal{AccountID: acct})

		empty := New(db, Config{Region: "z-1", Zones: []string{"z-1a"}})
		_, err := empty.AllocateAddress(ctx, &ec2api.AllocateAddressRequest{})
		var ae *awsapi.Error
		if !errors.As(err, &ae) || ae.Code != "InsufficientAddressCapacity" {
			t.Fatalf("allocate from no pool: %v", err)
		}

		pool, _ := ParseAddressPool("198.51.100.10-198.51.100.11")
		s := New(db, Config{Region: "z-1", Zones: []string{"z-1a"}, PublicIPs: pool})
		var got [][]string
		s.Notify = func(nodeIDs ...string) { slices.Sort(nodeIDs); got = append(got, nodeIDs) }
		one := int32(1)
		placed := map[string]string{} // node -> instance
		for range nodes {
			res, err := s.RunInstances(ctx, &ec2api.RunInstancesRequest{ImageId: &img, MinCount: &one, MaxCount: &one, InstanceType: str("t3.micro"),
				NetworkInterfaces: []ec2api.InstanceNetworkInterfaceSpecification{{DeviceIndex: i32(0), AssociatePublicIpAddress: boolp(false)}}})
			if err != nil {
				t.Fatal(err)
			}
			placed[got[len(got)-1][0]] = *res.Instances[0].InstanceId
		}
		if len(placed) != 2 {
			t.Fatalf("instances not on two nodes: %v", placed)
		}
		got = nil
		a, err := s.AllocateAddress(ctx, &ec2api.AllocateAddressRequest{})
		if err != nil || *a.PublicIp != "198.51.100.10" {
			t.Fatalf("allocate: %+v %v", a, err)
		}
		if len(got) != 0 {
			t.Fatalf("allocation notified %v", got)
		}
		i1, i2 := placed[nodes[0]], placed[nodes[1]]
		if _, err := s.AssociateAddress(ctx, &ec2api.AssociateAddressRequest{AllocationId: a.AllocationId, InstanceId: &i1}); err != nil {
			t.Fatal(err)
		}
		moved, err := s.AssociateAddress(ctx, &ec2api.AssociateAddressRequest{AllocationId: a.AllocationId, InstanceId: &i2, AllowReassociation: boolp(true)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DisassociateAddress(ctx, &ec2api.DisassociateAddressRequest{AssociationId: moved.AssociationId}); err != nil {
			t.Fatal(err)
		}
		both := slices.Sorted(slices.Values(nodes))
		want := [][]string{{nodes[0]}, both, {nodes[1]}}
		if !slices.EqualFunc(got, want, slices.Equal[[]string]) {
			t.Fatalf("notified %v, want %v", got, want)
		}
	})
}
