package imagecache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// fill is a base being written: a sparse temp file into which chunks are
// written, each verified, in any order: by the background workers, or
// first for a reader (an NBD client: a guest booting from the image) that
// needs one now. A reader gets a chunk's bytes from the file once it is
// there, so every byte it reads is the snapshot's.
type fill struct {
	store *snapshot.Store
	m     *snapshot.Manifest
	f     *os.File
	ctx   context.Context // bounds every fetch; the flight's
	log   *slog.Logger

	mu       sync.Mutex
	have     []bool              // chunk i is in f (all-zero chunks from the start: holes)
	pending  map[int]*chunkFetch // fetches in progress
	missing  int                 // chunks not in f yet
	next     int                 // where the background workers look next
	refs     int                 // readers holding the fill (acquire)
	finished bool                // the flight is over: f closes with the last reader
	closed   bool
}

type chunkFetch struct {
	done chan struct{}
	err  error // set before done is closed
}

// Fetch retries: a reader tries a failing chunk a few times; a lazy
// flight's workers keep trying with backoff (guests are reading from it).
const (
	readAttempts = 3
	retryMin     = 200 * time.Millisecond
	retryMax     = 30 * time.Second
)

// newFill sizes f (emptied) to the volume; all-zero chunks are holes.
func newFill(ctx context.Context, store *snapshot.Store, m *snapshot.Manifest, f *os.File, log *slog.Logger) (*fill, error) {
	if err := f.Truncate(0); err != nil {
		return nil, fmt.Errorf("empty %s: %w", f.Name(), err)
	}
	if err := f.Truncate(m.VolumeSize); err != nil {
		return nil, fmt.Errorf("size %s: %w", f.Name(), err)
	}
	fl := &fill{store: store, m: m, f: f, ctx: ctx, log: log, have: make([]bool, len(m.Chunks)), pending: map[int]*chunkFetch{}}
	for i, h := range m.Chunks {
		fl.have[i] = h.IsZero()
		if !fl.have[i] {
			fl.missing++
		}
	}
	return fl, nil
}

// Size is the volume's size (nbd.Export).
func (fl *fill) Size() int64 { return fl.m.VolumeSize }

// ReadAt reads the volume, fetching the chunks it spans that are not in
// the file yet (io.ReaderAt, nbd.Export).
func (fl *fill) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > fl.m.VolumeSize {
		return 0, fmt.Errorf("read at %d: outside the volume", off)
	}
	end := min(off+int64(len(p)), fl.m.VolumeSize)
	cs := int64(fl.m.ChunkSize)
	for i := off / cs; i*cs < end; i++ {
		if err := fl.ensureRetry(int(i)); err != nil {
			return 0, err
		}
	}
	n, err := fl.f.ReadAt(p[:end-off], off)
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

// ensureRetry is ensure, tried a few times.
func (fl *fill) ensureRetry(i int) error {
	var err error
	for attempt := range readAttempts {
		if err = fl.ensure(i, true); err == nil || fl.ctx.Err() != nil {
			return err
		}
		fl.log.Warn("image chunk fetch failed; retrying", "snapshot", fl.m.SnapshotID, "chunk", i, "err", err)
		if !sleep(fl.ctx, retryMin<<attempt) {
			break
		}
	}
	return err
}

// ensure puts chunk i in the file unless it is there, sharing a fetch in
// progress. A reader's ensure (demand) moves the background workers to
// the chunks after i: guests mostly read on.
func (fl *fill) ensure(i int, demand bool) error {
	fl.mu.Lock()
	if fl.have[i] {
		fl.mu.Unlock()
		return nil
	}
	if demand {
		fl.next = (i + 1) % len(fl.have)
	}
	if p, ok := fl.pending[i]; ok {
		fl.mu.Unlock()
		select {
		case <-p.done:
			return p.err
		case <-fl.ctx.Done():
			return context.Cause(fl.ctx)
		}
	}
	p := &chunkFetch{done: make(chan struct{})}
	fl.pending[i] = p
	fl.mu.Unlock()
	fl.fetch(i, p)
	return p.err
}

// fetch reads chunk i from the store into the file and records the result.
func (fl *fill) fetch(i int, p *chunkFetch) {
	data, err := fl.store.Chunk(fl.ctx, fl.m, i, nil)
	if err == nil {
		if _, werr := fl.f.WriteAt(data, int64(i)*int64(fl.m.ChunkSize)); werr != nil {
			err = fmt.Errorf("chunk %d: write: %w", i, werr)
		}
	}
	fl.mu.Lock()
	delete(fl.pending, i)
	if err == nil && !fl.have[i] {
		fl.have[i] = true
		fl.missing--
	}
	p.err = err
	fl.mu.Unlock()
	close(p.done)
}

// claim picks a chunk for a background worker: the next missing one that
// nobody fetches; or, when every missing chunk is being fetched, one of
// those fetches to wait for. Neither: the fill is complete.
func (fl *fill) claim() (i int, p *chunkFetch, wait *chunkFetch) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.missing == 0 {
		return -1, nil, nil
	}
	n := len(fl.have)
	for k := range n {
		j := (fl.next + k) % n
		if fl.have[j] {
			continue
		}
		if q, ok := fl.pending[j]; ok {
			wait = q
			continue
		}
		fl.next = (j + 1) % n
		p = &chunkFetch{done: make(chan struct{})}
		fl.pending[j] = p
		return j, p, nil
	}
	return -1, nil, wait
}

// run fills every missing chunk with workers goroutines. Without retry the
// first failure ends it; with retry (a lazy flight) a failing chunk is
// tried again after a backoff until ctx ends.
func (fl *fill) run(workers int, retry func() bool) error {
	ctx, cancel := context.WithCancelCause(fl.ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			if err := fl.work(ctx, retry); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// work is one background worker.
func (fl *fill) work(ctx context.Context, retry func() bool) error {
	backoff := retryMin
	for ctx.Err() == nil {
		i, p, wait := fl.claim()
		switch {
		case p != nil:
			fl.fetch(i, p)
		case wait != nil:
			select {
			case <-wait.done:
			case <-ctx.Done():
			}
			continue
		default:
			return nil
		}
		if p.err == nil {
			backoff = retryMin
			continue
		}
		if !retry() || ctx.Err() != nil {
			return p.err
		}
		fl.log.Warn("image chunk fetch failed; retrying", "snapshot", fl.m.SnapshotID, "chunk", i, "err", p.err, "in", backoff)
		sleep(ctx, backoff)
		backoff = min(2*backoff, retryMax)
	}
	return context.Cause(ctx)
}

// acquire holds the fill for a reader; false once its file is closed.
func (fl *fill) acquire() bool {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.closed {
		return false
	}
	fl.refs++
	return true
}

// release drops a reader; the last one out of a finished fill closes it.
func (fl *fill) release() {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.refs--
	fl.closeIfIdle()
}

// finish ends the flight's use of the file.
func (fl *fill) finish() {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.finished = true
	fl.closeIfIdle()
}

func (fl *fill) closeIfIdle() {
	if fl.finished && fl.refs == 0 && !fl.closed {
		fl.closed = true
		_ = fl.f.Close()
	}
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

var errNotServing = errors.New("image cache: not serving images over NBD")
