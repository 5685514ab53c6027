package controller

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/kumo-cloud/kumo/internal/ec2"
	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/store"
)

// snapshotCollector removes snapshot data whose record is gone (after
// DeleteSnapshot, or a failed or cancelled import). It is level-triggered:
// each pass compares the manifests in the object store with the database.
type snapshotCollector struct {
	db     *store.DB
	store  *snapshot.Store
	logger *slog.Logger
	// grace protects data written moments before its record commits.
	grace time.Duration
}

// pass deletes orphaned snapshot data once and reports how many it removed.
func (g *snapshotCollector) pass(ctx context.Context) (int, error) {
	stored, err := g.store.IDs(ctx)
	if err != nil {
		return 0, err
	}
	live, err := g.liveIDs(ctx)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, id := range stored {
		if live[id] {
			continue
		}
		m, err := g.store.Manifest(ctx, id)
		if err != nil || time.Since(m.CreatedAt) < g.grace {
			continue
		}
		if err := g.store.Delete(ctx, id); err != nil {
			return removed, fmt.Errorf("collect snapshot %s: %w", id, err)
		}
		g.logger.InfoContext(ctx, "snapshot data collected", "snapshot", id)
		removed++
	}
	return removed, nil
}

// liveIDs are snapshots with a record, and those active imports are writing.
func (g *snapshotCollector) liveIDs(ctx context.Context) (map[string]bool, error) {
	live := map[string]bool{}
	err := g.db.View(ctx, func(ctx context.Context, tx *store.Tx) error {
		ids, err := tx.AllSnapshotIDs(ctx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			live[id] = true
		}
		tasks, err := tx.ImportTasksWithStatus(ctx, ec2.ImportActive)
		for _, t := range tasks {
			live[t.SnapshotID] = true
		}
		return err
	})
	return live, err
}

// run collects every interval until ctx ends.
func (g *snapshotCollector) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := g.pass(ctx); err != nil && ctx.Err() == nil {
			g.logger.ErrorContext(ctx, "snapshot collection failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
