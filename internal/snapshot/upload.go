package snapshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
)

// source fills buf (exactly chunk i's length) with chunk i, or returns the
// chunk's hash with known == true when it needs no reading.
type source func(i int, buf []byte) (h Hash, known bool, err error)

// uploader runs one write's pipeline: the calling goroutine reads chunks
// into a fixed set of buffers, workers hash and upload them. Memory is
// bounded by 2 × Concurrency chunk buffers whatever the volume's size.
type uploader struct {
	s        *Store
	ctx      context.Context
	cancel   context.CancelCauseFunc
	m        *Manifest
	jobs     chan chunkJob
	free     chan []byte
	progress func(done, total int64)

	mu     sync.Mutex
	recent recentSet // chunks this write handled lately
	done   int64
}

type chunkJob struct {
	index int
	buf   []byte // len = the chunk's length, cap = a whole buffer
}

// upload stores every non-zero chunk of m not yet in the store and fills
// in m.Chunks.
func (s *Store) upload(ctx context.Context, m *Manifest, src source, progress func(done, total int64)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	n := s.concurrency()
	u := &uploader{s: s, ctx: ctx, cancel: cancel, m: m, progress: progress,
		jobs: make(chan chunkJob), free: make(chan []byte, 2*n), recent: newRecentSet(recentChunks)}
	for range 2 * n {
		u.free <- make([]byte, m.ChunkSize)
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(u.work)
	}
	u.produce(src)
	close(u.jobs)
	wg.Wait()
	return context.Cause(ctx)
}

// produce reads chunks in order and hands non-zero ones to the workers.
func (u *uploader) produce(src source) {
	zero := make([]byte, u.m.ChunkSize)
	for i := range u.m.Chunks {
		var buf []byte
		select {
		case buf = <-u.free:
		case <-u.ctx.Done():
			return
		}
		buf = buf[:u.m.ChunkLen(i)]
		h, known, err := src(i, buf)
		if err != nil {
			u.cancel(err)
			return
		}
		if known || bytes.Equal(buf, zero[:len(buf)]) {
			u.m.Chunks[i] = h // zero Hash unless known
			u.free <- buf
			u.advance(len(buf))
			continue
		}
		select {
		case u.jobs <- chunkJob{index: i, buf: buf}:
		case <-u.ctx.Done():
			return
		}
	}
}

func (u *uploader) work() {
	for j := range u.jobs {
		if u.ctx.Err() == nil {
			if err := u.store(j); err != nil {
				u.cancel(err)
			}
		}
		u.free <- j.buf
	}
}

// store hashes a chunk and uploads it unless the store has it already.
func (u *uploader) store(j chunkJob) error {
	h := Hash(sha256.Sum256(j.buf))
	u.m.Chunks[j.index] = h
	if u.claim(h) {
		key := chunkKey(h)
		ok, err := u.s.Objects.Exists(u.ctx, key)
		if err != nil {
			return fmt.Errorf("chunk %d: %w", j.index, err)
		}
		if !ok {
			if err := u.s.Objects.Put(u.ctx, key, bytes.NewReader(j.buf), int64(len(j.buf))); err != nil {
				return fmt.Errorf("chunk %d: %w", j.index, err)
			}
		}
	}
	u.advance(len(j.buf))
	return nil
}

// claim reports whether h is new to this write lately. A chunk claimed by
// another worker needs no upload here: if that upload fails, the write does.
func (u *uploader) claim(h Hash) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.recent.add(h)
}

// recentChunks bounds the memory spent remembering chunks a write handled:
// repeats further apart cost one more Exists, not one more upload.
const recentChunks = 4096

// recentSet remembers the last n hashes added.
type recentSet struct {
	set  map[Hash]struct{}
	ring []Hash
	next int
}

func newRecentSet(n int) recentSet {
	return recentSet{set: make(map[Hash]struct{}, n), ring: make([]Hash, 0, n)}
}

// add reports whether h was not among the last n hashes, and remembers it.
func (r *recentSet) add(h Hash) bool {
	if _, ok := r.set[h]; ok {
		return false
	}
	if len(r.ring) < cap(r.ring) {
		r.ring = append(r.ring, h)
	} else {
		delete(r.set, r.ring[r.next])
		r.ring[r.next] = h
		r.next = (r.next + 1) % len(r.ring)
	}
	r.set[h] = struct{}{}
	return true
}

func (u *uploader) advance(n int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.done += int64(n)
	if u.progress != nil {
		u.progress(u.done, u.m.VolumeSize)
	}
}
