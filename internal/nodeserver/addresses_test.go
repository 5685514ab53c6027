package nodeserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func TestDesiredCarriesTheElasticIP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c, _ := h.join(t, "host-1")
		f := seedInstance(t, h.db, c.NodeID())
		publicIP := func() string { t.Helper(); return desiredPublicIP(t, h, c.NodeID()) }
		if got := publicIP(); got != "" {
			t.Fatalf("public address before association: %q", got)
		}
		a := store.Address{AllocationID: "eipalloc-00000000000000001", AccountID: f.account, PublicIP: "192.0.2.7", CreatedAt: time.Now()}
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.InsertAddress(ctx, a); err != nil {
				return err
			}
			a.AssociationID, a.NetworkInterfaceID, a.PrivateIP = "eipassoc-00000000000000001", f.eni, "10.0.1.10"
			return tx.SetAddressAssociation(ctx, a)
		})
		if got := publicIP(); got != "192.0.2.7" {
			t.Fatalf("public address %q, want 192.0.2.7", got)
		}
		// A terminated instance's association lapses.
		setInstance(t, h.db, f.account, f.instance, func(i *store.Instance) { i.State, i.DesiredPower = "terminated", "terminated" })
		if got := publicIP(); got != "" {
			t.Fatalf("terminated instance keeps %q", got)
		}
	})
}

// desiredPublicIP is the public address of the one instance in a node's
// desired state.
func desiredPublicIP(t *testing.T, h *harness, nodeID string) string {
	t.Helper()
	d, err := h.srv.Desired(t.Context(), nodeID)
	if err != nil || len(d.Instances) != 1 {
		t.Fatalf("desired %+v %v", d, err)
	}
	return d.Instances[0].Network.PublicIP
}
