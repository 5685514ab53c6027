package volsnap

import (
	"context"
	"errors"
	"strings"

	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// Dirty bitmaps. A volume carries at most one bitmap of Kumo's that is
// trusted: "kumo-<snapshot id>", created in the same instant as that
// snapshot's point-in-time view, so it marks every byte written since. The
// next snapshot, whose parent is that one, reads only the chunks it marks.
// A bitmap QEMU flags inconsistent (QEMU died with the volume open) is
// never used. Bitmaps of failed attempts are merged back into the
// parent's, so no write is ever forgotten.
const bitmapPrefix = "kumo-"

func bitmapName(snapshotID string) string { return bitmapPrefix + snapshotID }

type bitmapInfo struct {
	Name         string
	Recording    bool
	Inconsistent bool
}

// bitmapOps are the bitmap operations of a running QEMU or of a file.
type bitmapOps interface {
	listBitmaps(ctx context.Context) ([]bitmapInfo, error)
	// mergeBitmaps ORs srcs into dst and makes dst record again.
	mergeBitmaps(ctx context.Context, dst string, srcs []string) error
	removeBitmaps(ctx context.Context, names []string) error
}

// parentBitmap is the trusted bitmap started at parent, if the volume has
// one.
func parentBitmap(bms []bitmapInfo, parent *snapshot.Manifest) string {
	if parent == nil {
		return ""
	}
	for _, b := range bms {
		if b.Name == bitmapName(parent.SnapshotID) && !b.Inconsistent {
			return b.Name
		}
	}
	return ""
}

// reconcileBitmaps leaves the volume with only the bitmap to trust next:
// id's when the snapshot id is stored; otherwise the parent's, with every
// other bitmap of Kumo's merged into it (a failed attempt's included).
func reconcileBitmaps(ctx context.Context, ops bitmapOps, id string, parent *snapshot.Manifest, stored bool) error {
	bms, err := ops.listBitmaps(ctx)
	if err != nil {
		return err
	}
	keep := parentBitmap(bms, parent)
	if stored {
		keep = parentBitmap(bms, &snapshot.Manifest{SnapshotID: id})
	}
	var others []string
	for _, b := range bms {
		if strings.HasPrefix(b.Name, bitmapPrefix) && b.Name != keep {
			others = append(others, b.Name)
		}
	}
	if !stored && keep != "" {
		var merge []string
		for _, b := range bms {
			if b.Name != keep && strings.HasPrefix(b.Name, bitmapPrefix) && !b.Inconsistent {
				merge = append(merge, b.Name)
			}
		}
		if err := ops.mergeBitmaps(ctx, keep, merge); err != nil {
			// Not trusted any more: without it the next snapshot reads all.
			return errors.Join(err, ops.removeBitmaps(ctx, append(others, keep)))
		}
	}
	if len(others) == 0 {
		return nil
	}
	return ops.removeBitmaps(ctx, others)
}
