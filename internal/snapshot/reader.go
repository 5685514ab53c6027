package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// VolumeReader reads a snapshot's volume at random offsets (streaming
// export, serving blocks). It verifies every chunk it fetches and keeps the
// last few in memory, so small sequential reads fetch each chunk once.
// Safe for concurrent use, as io.ReaderAt requires.
type VolumeReader struct {
	s   *Store
	ctx context.Context
	m   *Manifest

	mu    sync.Mutex // guards cache, next, spare and the buffers in them
	cache [readerCacheChunks]cachedChunk
	next  int
	spare [][]byte // evicted buffers, reused by later fetches
}

const readerCacheChunks = 4

type cachedChunk struct {
	index int
	data  []byte // nil: empty slot
}

var _ io.ReaderAt = (*VolumeReader)(nil)

// Reader returns a reader of the volume m describes; ctx bounds every fetch
// it makes. Wrap it in io.NewSectionReader(r, 0, r.Size()) for io.Reader.
func (s *Store) Reader(ctx context.Context, m *Manifest) (*VolumeReader, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &VolumeReader{s: s, ctx: ctx, m: m}, nil
}

// Size is the volume's size in bytes.
func (r *VolumeReader) Size() int64 { return r.m.VolumeSize }

// ReadAt reads len(p) bytes at off; fewer only at the end, with io.EOF.
func (r *VolumeReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("snapshot reader: negative offset")
	}
	cs := int64(r.m.ChunkSize)
	n := 0
	for n < len(p) && off < r.m.VolumeSize {
		i := int(off / cs)
		within := int(off - int64(i)*cs)
		c, err := r.copyChunk(p[n:], i, within)
		if err != nil {
			return n, err
		}
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// copyChunk copies chunk i's bytes from offset within into p.
func (r *VolumeReader) copyChunk(p []byte, i, within int) (int, error) {
	if r.m.Chunks[i].IsZero() {
		c := min(len(p), r.m.ChunkLen(i)-within)
		clear(p[:c])
		return c, nil
	}
	r.mu.Lock()
	for _, c := range r.cache {
		if c.data != nil && c.index == i {
			defer r.mu.Unlock()
			return copy(p, c.data[within:]), nil
		}
	}
	buf := r.takeSpare()
	r.mu.Unlock()
	data, err := r.s.fetch(r.ctx, r.m, i, buf)
	if err != nil {
		return 0, fmt.Errorf("snapshot reader: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.cache[r.next].data; old != nil {
		r.spare = append(r.spare, old)
	}
	r.cache[r.next] = cachedChunk{index: i, data: data}
	r.next = (r.next + 1) % readerCacheChunks
	return copy(p, data[within:]), nil
}

// takeSpare returns a reusable buffer or nil; r.mu must be held.
func (r *VolumeReader) takeSpare() []byte {
	if len(r.spare) == 0 {
		return nil
	}
	b := r.spare[len(r.spare)-1]
	r.spare = r.spare[:len(r.spare)-1]
	return b
}
