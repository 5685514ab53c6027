package snapshot

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// fetch reads chunk i of m into buf (at least the chunk's length) and
// verifies its length and hash. A missing chunk or a mismatch is ErrCorrupt.
func (s *Store) fetch(ctx context.Context, m *Manifest, i int, buf []byte) ([]byte, error) {
	h, n := m.Chunks[i], m.ChunkLen(i)
	rc, err := s.Objects.Get(ctx, chunkKey(h))
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("snapshot %s chunk %d (%s) missing: %w: %w", m.SnapshotID, i, h, ErrCorrupt, err)
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot %s chunk %d: %w", m.SnapshotID, i, err)
	}
	defer rc.Close()
	data, err := readExactly(ctxReader{ctx, rc}, int64(n), buf)
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("snapshot %s chunk %d (%s): %w: %w", m.SnapshotID, i, h, ErrCorrupt, err)
	}
	if Hash(sha256.Sum256(data)) != h {
		return nil, fmt.Errorf("snapshot %s chunk %d (%s): sha256 mismatch: %w", m.SnapshotID, i, h, ErrCorrupt)
	}
	return data, nil
}

// ReadTo rebuilds the volume m describes into w, fetching up to
// Concurrency chunks at a time and verifying each. When w is a regular
// *os.File it is first emptied and sized to the volume, and all-zero chunks
// stay holes; any other target (a block device, a buffer) is written in
// full, zeros included, so no earlier content survives.
func (s *Store) ReadTo(ctx context.Context, m *Manifest, w io.WriterAt) error {
	if err := m.validate(); err != nil {
		return err
	}
	sparse, err := prepareSparse(w, m.VolumeSize)
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", m.SnapshotID, err)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	indexes := make(chan int)
	zero := make([]byte, m.ChunkSize)
	var wg sync.WaitGroup
	for range s.concurrency() {
		wg.Go(func() {
			buf := make([]byte, m.ChunkSize)
			for i := range indexes {
				if err := s.restore(ctx, m, i, w, buf, zero); err != nil {
					cancel(err)
				}
			}
		})
	}
	feed(ctx, indexes, m, sparse)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("snapshot %s: restore: %w", m.SnapshotID, err)
	}
	return nil
}

// feed sends the chunk indexes to restore (not the zero ones when sparse).
func feed(ctx context.Context, indexes chan<- int, m *Manifest, sparse bool) {
	defer close(indexes)
	for i, h := range m.Chunks {
		if sparse && h.IsZero() {
			continue
		}
		select {
		case indexes <- i:
		case <-ctx.Done():
			return
		}
	}
}

// restore writes chunk i into w.
func (s *Store) restore(ctx context.Context, m *Manifest, i int, w io.WriterAt, buf, zero []byte) error {
	if ctx.Err() != nil {
		return nil // the first error is already recorded
	}
	data := zero[:m.ChunkLen(i)]
	if !m.Chunks[i].IsZero() {
		var err error
		if data, err = s.fetch(ctx, m, i, buf); err != nil {
			return err
		}
	}
	if _, err := w.WriteAt(data, int64(i)*int64(m.ChunkSize)); err != nil {
		return fmt.Errorf("chunk %d: write: %w", i, err)
	}
	return nil
}

// prepareSparse empties a regular file and sizes it to size, so unwritten
// ranges read as zeros; it reports whether it did.
func prepareSparse(w io.WriterAt, size int64) (bool, error) {
	f, ok := w.(*os.File)
	if !ok {
		return false, nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return false, nil // a device: write everything
	}
	if err := f.Truncate(0); err != nil {
		return false, fmt.Errorf("empty %s: %w", f.Name(), err)
	}
	if err := f.Truncate(size); err != nil {
		return false, fmt.Errorf("size %s: %w", f.Name(), err)
	}
	return true, nil
}

// Chunk reads chunk i of m into buf (allocated when too small) and
// verifies it: a chunk of the wrong length or hash, or a missing one, is
// ErrCorrupt. An all-zero chunk (not stored) is returned as zeros.
func (s *Store) Chunk(ctx context.Context, m *Manifest, i int, buf []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	if i < 0 || i >= len(m.Chunks) {
		return nil, fmt.Errorf("snapshot %s: chunk %d of %d", m.SnapshotID, i, len(m.Chunks))
	}
	if !m.Chunks[i].IsZero() {
		return s.fetch(ctx, m, i, buf)
	}
	n := m.ChunkLen(i)
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	clear(buf)
	return buf, nil
}
