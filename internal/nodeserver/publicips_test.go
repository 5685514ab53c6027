package nodeserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

// An auto-assigned public IP (MapPublicIpOnLaunch) reaches the node as an
// elastic IP does, and leaves it when the instance stops.
func TestDesiredCarriesTheAutoAssignedPublicIP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := startServer(t, b)
		c, _ := h.join(t, "host-1")
		f := seedInstance(t, h.db, c.NodeID())
		publicIP := func() string { t.Helper(); return desiredPublicIP(t, h, c.NodeID()) }
		storetest.MustUpdate(t, h.db, func(ctx context.Context, tx *store.Tx) error {
			return tx.InsertAddress(ctx, store.Address{AccountID: f.account, PublicIP: "192.0.2.8", Auto: true,
				NetworkInterfaceID: f.eni, PrivateIP: "10.0.1.10", CreatedAt: time.Now()})
		})
		if got := publicIP(); got != "192.0.2.8" {
			t.Fatalf("public address %q, want 192.0.2.8", got)
		}
		setInstance(t, h.db, f.account, f.instance, func(i *store.Instance) { i.State, i.DesiredPower = "stopped", "stopped" })
		if got := publicIP(); got != "" {
			t.Fatalf("stopped instance keeps %q", got)
		}
	})
}
