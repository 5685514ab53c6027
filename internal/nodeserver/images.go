package nodeserver

import (
	"context"
	"fmt"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
	"github.com/kumo-cloud/kumo/internal/store"
)

// settleImages moves the pending images (CreateImage's) that map a
// snapshot that just finished: available once every snapshot of theirs
// completed, failed as soon as one failed.
func settleImages(ctx context.Context, tx *store.Tx, snapshotID string) error {
	ids, err := tx.ImagesUsingSnapshot(ctx, snapshotID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		im, err := tx.GetImage(ctx, id)
		if err != nil {
			return fmt.Errorf("image %s: %w", id, err)
		}
		if im.State != "pending" {
			continue
		}
		next, err := imageState(ctx, tx, im)
		if err != nil {
			return fmt.Errorf("image %s: %w", id, err)
		}
		if next.State == im.State {
			continue
		}
		if err := tx.UpdateImage(ctx, next); err != nil {
			return fmt.Errorf("image %s: %w", id, err)
		}
	}
	return nil
}

func imageState(ctx context.Context, tx *store.Tx, im store.Image) (store.Image, error) {
	done := true
	for _, bd := range im.BlockDevices {
		if bd.SnapshotID == "" {
			continue
		}
		sn, err := tx.GetSnapshot(ctx, bd.SnapshotID)
		if err != nil {
			return im, err
		}
		switch sn.State {
		case nodeapi.SnapshotError:
			im.State, im.StateReason = "failed", "Snapshot "+sn.ID+" of "+bd.DeviceName+" failed: "+sn.StateMessage
			return im, nil
		case nodeapi.SnapshotCompleted:
		default:
			done = false
		}
	}
	if done {
		im.State, im.StateReason = "available", ""
	}
	return im, nil
}
