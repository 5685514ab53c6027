package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Write stores the size bytes read from r as snapshot snapshotID and
// returns its manifest. Chunks already in the store (from this or any other
// snapshot) are not uploaded again, all-zero chunks not at all, and the
// manifest is written last, so re-running Write after a crash or an error
// finishes the job. If the snapshot already exists with the same size,
// Write returns its manifest without reading r. progress, if set, is
// called with the bytes done so far, one call at a time, from Write's
// goroutines; it must be quick.
func (s *Store) Write(ctx context.Context, snapshotID string, r io.Reader, size int64, progress func(done, total int64)) (*Manifest, error) {
	if m, err := s.existing(ctx, snapshotID, size); m != nil || err != nil {
		return m, err
	}
	s.gc.RLock()
	defer s.gc.RUnlock()
	read := func(i int, buf []byte) (Hash, bool, error) {
		if _, err := io.ReadFull(r, buf); err != nil {
			return Hash{}, false, fmt.Errorf("read chunk %d: %w", i, err)
		}
		return Hash{}, false, nil
	}
	return s.write(ctx, s.newManifest(snapshotID, size, s.chunkSize(), ""), read, progress)
}

// WriteIncremental stores snapshot snapshotID of a volume that was
// snapshotted as parent: chunks for which changed(index) is false keep the
// parent's hash without being read; the others are read from r as in Write.
// changed == nil means every chunk changed. The new snapshot uses the
// parent's chunk size. The parent must still exist in the store.
func (s *Store) WriteIncremental(ctx context.Context, snapshotID string, parent *Manifest, r io.ReaderAt, size int64,
	changed func(chunkIndex int) bool, progress func(done, total int64)) (*Manifest, error) {
	if err := parent.validate(); err != nil {
		return nil, fmt.Errorf("snapshot %s: parent: %w", snapshotID, err)
	}
	if m, err := s.existing(ctx, snapshotID, size); m != nil || err != nil {
		return m, err
	}
	s.gc.RLock() // from here on, the parent's chunks cannot be collected
	defer s.gc.RUnlock()
	stored, err := s.Manifest(ctx, parent.SnapshotID)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: parent: %w", snapshotID, err)
	}
	if stored.ChunkSize != parent.ChunkSize || !slices.Equal(stored.Chunks, parent.Chunks) {
		return nil, fmt.Errorf("snapshot %s: parent %s differs from the stored manifest", snapshotID, parent.SnapshotID)
	}
	cs := parent.ChunkSize
	read := func(i int, buf []byte) (Hash, bool, error) {
		if changed != nil && !changed(i) && i < len(parent.Chunks) && parent.ChunkLen(i) == len(buf) {
			return parent.Chunks[i], true, nil
		}
		n, err := r.ReadAt(buf, int64(i)*int64(cs))
		if n == len(buf) {
			return Hash{}, false, nil
		}
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Hash{}, false, fmt.Errorf("read chunk %d: %w", i, err)
	}
	return s.write(ctx, s.newManifest(snapshotID, size, cs, parent.SnapshotID), read, progress)
}

// existing validates a write's arguments and returns the snapshot's
// manifest if it is already complete.
func (s *Store) existing(ctx context.Context, id string, size int64) (*Manifest, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, fmt.Errorf("snapshot %s: negative size %d", id, size)
	}
	m, err := s.Manifest(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case m.VolumeSize != size:
		return nil, fmt.Errorf("snapshot %s: stored with %d bytes, asked for %d: %w", id, m.VolumeSize, size, ErrExists)
	}
	return m, nil
}

func (s *Store) newManifest(id string, size int64, chunkSize int, parent string) *Manifest {
	return &Manifest{Version: ManifestVersion, SnapshotID: id, VolumeSize: size, ChunkSize: chunkSize,
		Chunks: make([]Hash, NumChunks(size, chunkSize)), Parent: parent}
}

// write uploads m's chunks from src, then the manifest.
func (s *Store) write(ctx context.Context, m *Manifest, src source, progress func(done, total int64)) (*Manifest, error) {
	if err := s.upload(ctx, m, src, progress); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", m.SnapshotID, err)
	}
	m.CreatedAt = s.now()
	if err := s.putManifest(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}
