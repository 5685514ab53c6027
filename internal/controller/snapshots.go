package controller

import (
	"context"
	"io"

	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// snapshotData adapts the chunk store to what the EC2 handlers and the
// importer need: errors only, no manifests.
type snapshotData struct{ store *snapshot.Store }

func (d snapshotData) Copy(ctx context.Context, src, dst string) error {
	_, err := d.store.Copy(ctx, src, dst)
	return err
}

func (d snapshotData) Write(ctx context.Context, id string, r io.Reader, size int64, progress func(done, total int64)) error {
	_, err := d.store.Write(ctx, id, r, size, progress)
	return err
}
