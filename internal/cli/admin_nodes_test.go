package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/admin"
	"github.com/kumo-cloud/kumo/internal/controller/controllertest"
	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func TestAdminNodeCommands(t *testing.T) {
	srv := controllertest.Start(t, storetest.Backends()[0])
	dir := srv.DataDir
	out, err := run(t, "admin", "--data-dir", dir, "node", "token", "--ttl", "1h")
	if err != nil {
		t.Fatalf("node token: %v\n%s", err, out)
	}
	tok := strings.TrimSpace(out)
	if _, err := nodeapi.ParseJoinToken(tok); err != nil {
		t.Fatalf("node token printed %q: %v", out, err)
	}
	if out, err := run(t, "admin", "--data-dir", dir, "node", "token", "--json"); err != nil || !strings.Contains(out, `"ExpiresAt"`) {
		t.Fatalf("node token --json: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := nodeapi.Dial(ctx, nodeapi.DialConfig{Server: "https://" + srv.NodeAddr.String(), DataDir: filepath.Join(t.TempDir(), "node"),
		JoinToken: tok, Name: "rack1-host1"})
	if err != nil {
		t.Fatalf("join with the printed token: %v", err)
	}
	defer c.Close()
	s, err := c.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(&nodeapi.Report{Node: nodeapi.NodeInfo{Name: "rack1-host1", Zone: "kumo-1b", Version: "t",
		Capacity: nodeapi.Capacity{VCPUs: 4, MemoryMiB: 8192, DiskGiB: 100},
		Accel:    "tcg", AccelReason: "kvm unusable, falling back to tcg: failed to set MSR 0x10a"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	waitForNodes(t, func() bool {
		out, _ := run(t, "admin", "--data-dir", dir, "node", "list")
		return strings.Contains(out, "kumo-1b")
	})
	out, err = run(t, "admin", "--data-dir", dir, "node", "list")
	if err != nil || !strings.Contains(out, "rack1-host1") || !strings.Contains(out, c.NodeID()) || !strings.Contains(out, "ready") ||
		!strings.Contains(out, "8192 MiB") || !strings.Contains(out, "ACCEL") || !strings.Contains(out, " tcg ") ||
		!strings.Contains(out, "falling back to tcg: failed to set MSR 0x10a") {
		t.Fatalf("node list: %v\n%s", err, out)
	}

	resp, err := http.Get(srv.Admin.Endpoint + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "kumo_nodes_connected 1") {
		t.Fatalf("/metrics lacks kumo_nodes_connected 1")
	}

	if _, err := run(t, "admin", "--data-dir", dir, "node", "drain", "rack1-host1"); err != nil {
		t.Fatalf("drain: %v", err)
	}
	out, err = run(t, "admin", "--data-dir", dir, "node", "list", "--json")
	var nodes []admin.Node
	if err != nil || json.Unmarshal([]byte(out), &nodes) != nil || len(nodes) != 1 || nodes[0].State != "draining" ||
		!nodes[0].Connected || nodes[0].VCpus != 4 {
		t.Fatalf("list after drain: %v\n%s", err, out)
	}

	acct, err := srv.Admin.CreateAccount(ctx, "team-n")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	storetest.MustUpdate(t, srv.DB, func(ctx context.Context, tx *store.Tx) error {
		return tx.InsertInstance(ctx, store.Instance{ID: "i-0000000000000abcd", AccountID: acct.AccountId, ReservationID: "r-1",
			State: "running", NodeID: c.NodeID(), DesiredPower: "running", StateChangedAt: now, LaunchTime: now, CreatedAt: now})
	})
	if _, err := run(t, "admin", "--data-dir", dir, "node", "remove", "rack1-host1"); err == nil || !strings.Contains(err.Error(), "NodeBusy") {
		t.Fatalf("remove a node with a running instance: got %v, want NodeBusy", err)
	}
	if out, err := run(t, "admin", "--data-dir", dir, "node", "list"); err != nil || !strings.Contains(out, "draining") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if _, err := run(t, "admin", "--data-dir", dir, "node", "remove", "--force", "rack1-host1"); err != nil {
		t.Fatalf("remove --force: %v", err)
	}
	if out, err := run(t, "admin", "--data-dir", dir, "node", "list", "--json"); err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("list after remove: %v\n%s", err, out)
	}
	if _, err := run(t, "admin", "--data-dir", dir, "node", "remove", "rack1-host1"); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Fatalf("remove twice: got %v, want NotFound", err)
	}
}

func waitForNodes(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
