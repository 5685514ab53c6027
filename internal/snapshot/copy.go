package snapshot

import (
	"context"
	"fmt"
	"slices"
)

// Copy makes snapshot dstID with srcID's contents (CopySnapshot, CopyImage).
// Chunks are shared, so only a manifest is written, whatever the size; the
// copy names srcID as its parent. Copying again onto an identical dstID
// returns it; onto a different one fails with ErrExists.
func (s *Store) Copy(ctx context.Context, srcID, dstID string) (*Manifest, error) {
	if err := checkID(dstID); err != nil {
		return nil, err
	}
	s.gc.RLock() // src's chunks stay until dst's manifest references them
	defer s.gc.RUnlock()
	src, err := s.Manifest(ctx, srcID)
	if err != nil {
		return nil, fmt.Errorf("copy snapshot %s: %w", srcID, err)
	}
	if dst, err := s.existing(ctx, dstID, src.VolumeSize); dst != nil || err != nil {
		if err == nil && !slices.Equal(dst.Chunks, src.Chunks) {
			err = fmt.Errorf("copy snapshot %s to %s: %w", srcID, dstID, ErrExists)
		}
		return dst, err
	}
	dst := *src
	dst.SnapshotID, dst.Parent, dst.CreatedAt = dstID, srcID, s.now()
	dst.Chunks = slices.Clone(src.Chunks)
	if err := s.putManifest(ctx, &dst); err != nil {
		return nil, err
	}
	return &dst, nil
}
