package controller

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/kumo-cloud/kumo/internal/ec2"
	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/store"
	"github.com/kumo-cloud/kumo/internal/store/storetest"
)

func TestSnapshotCollectorRemovesOnlyOrphans(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := storetest.Open(t, b)
		st := &snapshot.Store{Objects: snapshot.NewMemObjects()}
		data := bytes.Repeat([]byte{7}, 700<<10)
		for _, id := range []string{"snap-kept", "snap-orphan", "snap-importing"} {
			if _, err := st.Write(ctx, id, bytes.NewReader(data), int64(len(data)), nil); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		storetest.MustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			if err := tx.InsertAccount(ctx, store.Account{ID: "123456789012", Name: "a", CreatedAt: now}); err != nil {
				return err
			}
			if err := tx.InsertSnapshot(ctx, store.Snapshot{ID: "snap-kept", AccountID: "123456789012", State: "completed", CreatedAt: now}); err != nil {
				return err
			}
			return tx.InsertImportTask(ctx, store.ImportTask{ID: "import-snap-1", AccountID: "123456789012", Kind: ec2.ImportKindSnapshot,
				Status: ec2.ImportActive, SnapshotID: "snap-importing", CreatedAt: now, UpdatedAt: now})
		})
		g := &snapshotCollector{db: db, store: st, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		n, err := g.pass(ctx)
		if err != nil || n != 1 {
			t.Fatalf("pass removed %d (%v), want 1", n, err)
		}
		ids, _ := st.IDs(ctx)
		if len(ids) != 2 || ids[0] != "snap-importing" || ids[1] != "snap-kept" {
			t.Fatalf("left %v, want snap-importing and snap-kept", ids)
		}
		g.grace = time.Hour
		if n, _ := g.pass(ctx); n != 0 {
			t.Fatal("collected within the grace period")
		}
	})
}
