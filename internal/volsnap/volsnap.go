// Package volsnap takes EBS snapshots of volumes and restores them: it
// reads a crash-consistent point-in-time view of a qcow2 volume (one a
// running QEMU has attached and is writing to, through image fleecing; or
// a detached file, through qemu-nbd), cuts it into the snapshot store's
// chunks and writes chunks and manifest with internal/snapshot, uploading
// only chunks the store lacks. A persistent QEMU dirty bitmap per volume,
// named after the snapshot it starts at, lets the next snapshot read only
// the chunks written since. See docs/volume-snapshots.md.
package volsnap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/volsnap/nbd"
)

// Source is a volume to snapshot: a *QEMU or a *File.
type Source interface {
	// open makes the point-in-time view of the volume for snapshot id.
	open(ctx context.Context, id string, parent *snapshot.Manifest) (*view, error)
	// finish runs after the snapshot is stored (ok) or failed, and removes
	// everything open made (bitmaps are kept or merged back as ok says).
	finish(ctx context.Context, id string, parent *snapshot.Manifest, ok bool) error
	// describe names the volume in errors and logs.
	describe() string
}

// Options of Take.
type Options struct {
	// SnapshotID names the new snapshot ("snap-...").
	SnapshotID string
	// Parent is the volume's previous completed snapshot (nil: none). When
	// the volume carries the dirty bitmap that started at Parent, only the
	// chunks written since are read; the others keep Parent's hashes.
	Parent *snapshot.Manifest
	// NoBitmap reads every chunk even when a bitmap could be used (chunks
	// the store has are still not uploaded: incremental by content).
	NoBitmap bool
	// ChunkSize for a snapshot without Parent (0: the store's default).
	ChunkSize int
	// Concurrency of chunk uploads (0: the store's default).
	Concurrency int
	// Progress, if set, is called as chunks are done, one call at a time.
	Progress func(Progress)
	// Log receives what cleanup could not do (nil: slog.Default()).
	Log *slog.Logger
}

// Progress is a snapshot's progress, as nodeapi.SnapshotStatus reports it.
type Progress struct {
	Percent  int   // of the volume's chunks done
	Uploaded int64 // bytes of new chunks written to the store
}

// Result of a snapshot.
type Result struct {
	Manifest *snapshot.Manifest
	// Uploaded is the bytes of chunks written to the store (chunks it
	// already had, and zero chunks, cost nothing).
	Uploaded int64
	// Read is the bytes read from the volume's point-in-time view.
	Read int64
	// Incremental: a dirty bitmap chose the chunks read.
	Incremental bool
	// Pause is how long starting the point-in-time view took in QEMU (the
	// QMP transaction, round trip included): an upper bound of the time
	// the guest's I/O was held. Zero for a file.
	Pause time.Duration
}

// Take stores a snapshot of src's volume as opts.SnapshotID in objs. It
// is idempotent: a retry after a failure, a cancelled context or a killed
// process first removes what the interrupted attempt left (by name), and a
// snapshot whose manifest is already stored is returned as it is.
func Take(ctx context.Context, src Source, objs snapshot.Objects, opts Options) (*Result, error) {
	if opts.SnapshotID == "" {
		return nil, errors.New("volsnap: no snapshot id")
	}
	counter := &countingObjects{Objects: objs}
	store := &snapshot.Store{Objects: counter, ChunkSize: opts.ChunkSize, Concurrency: opts.Concurrency}
	if m, err := store.Manifest(ctx, opts.SnapshotID); err == nil {
		// Stored by an attempt that could not clean up: only that is left.
		if err := src.finish(ctx, opts.SnapshotID, opts.Parent, true); err != nil {
			return nil, fmt.Errorf("snapshot %s of %s: %w", opts.SnapshotID, src.describe(), err)
		}
		return &Result{Manifest: m}, nil
	} else if !errors.Is(err, snapshot.ErrNotFound) {
		return nil, fmt.Errorf("snapshot %s of %s: %w", opts.SnapshotID, src.describe(), err)
	}
	if opts.Parent != nil {
		if _, err := store.Manifest(ctx, opts.Parent.SnapshotID); errors.Is(err, snapshot.ErrNotFound) {
			// Deleted since: a full snapshot (chunks the store has are
			// still not uploaded).
			logger(opts).Info("volume snapshot's parent is gone; taking a full one", "snapshot", opts.SnapshotID,
				"parent", opts.Parent.SnapshotID)
			opts.Parent = nil
		} else if err != nil {
			return nil, fmt.Errorf("snapshot %s of %s: parent: %w", opts.SnapshotID, src.describe(), err)
		}
	}
	v, err := src.open(ctx, opts.SnapshotID, opts.Parent)
	if err != nil {
		finishQuietly(src, opts, false)
		return nil, fmt.Errorf("snapshot %s of %s: %w", opts.SnapshotID, src.describe(), err)
	}
	res, err := v.store(ctx, store, counter, opts)
	v.close()
	if err != nil {
		finishQuietly(src, opts, false)
		return nil, fmt.Errorf("snapshot %s of %s: %w", opts.SnapshotID, src.describe(), err)
	}
	if err := src.finish(ctx, opts.SnapshotID, opts.Parent, true); err != nil {
		// The snapshot is stored; what is left is removed by the next one.
		logger(opts).Warn("volume snapshot stored, cleanup failed", "snapshot", opts.SnapshotID, "volume", src.describe(), "err", err)
	}
	return res, nil
}

// finishQuietly cleans up after a failure even when ctx is cancelled.
func finishQuietly(src Source, opts Options, ok bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := src.finish(ctx, opts.SnapshotID, opts.Parent, ok); err != nil {
		logger(opts).Warn("volume snapshot cleanup failed; the next attempt retries it", "snapshot", opts.SnapshotID,
			"volume", src.describe(), "err", err)
	}
}

func logger(o Options) *slog.Logger {
	if o.Log == nil {
		return slog.Default()
	}
	return o.Log
}

// view is a point-in-time view of a volume exported over NBD.
type view struct {
	nbd  *nbd.Client
	size int64
	// dirtyMeta is the NBD meta context of the bitmap started at the
	// parent ("" : none usable, read everything).
	dirtyMeta string
	pause     time.Duration
	close     func()
}

// store reads the view and writes the snapshot.
func (v *view) store(ctx context.Context, store *snapshot.Store, counter *countingObjects, opts Options) (*Result, error) {
	cs := store.ChunkSize
	if cs <= 0 {
		cs = snapshot.DefaultChunkSize
	}
	parent := opts.Parent
	if parent != nil {
		cs = parent.ChunkSize
	}
	plan, err := v.plan(ctx, cs, parent != nil && !opts.NoBitmap)
	if err != nil {
		return nil, err
	}
	r := &chunkReader{ctx: ctx, v: v, plan: plan, cs: int64(cs)}
	progress := func(done, total int64) {
		if opts.Progress != nil {
			pct := 100
			if total > 0 {
				pct = int(done * 100 / total)
			}
			opts.Progress(Progress{Percent: pct, Uploaded: counter.uploaded()})
		}
	}
	var m *snapshot.Manifest
	if parent != nil {
		var changed func(int) bool
		if plan.dirty != nil {
			changed = func(i int) bool { return i >= len(plan.dirty) || plan.dirty[i] }
		}
		m, err = store.WriteIncremental(ctx, opts.SnapshotID, parent, r, v.size, changed, progress)
	} else {
		store.ChunkSize = cs
		m, err = store.Write(ctx, opts.SnapshotID, io.NewSectionReader(r, 0, v.size), v.size, progress)
	}
	if err != nil {
		return nil, err
	}
	return &Result{Manifest: m, Uploaded: counter.uploaded(), Read: r.read(), Incremental: plan.dirty != nil, Pause: v.pause}, nil
}

// plan says, per chunk, whether it reads as zeros and whether it changed
// since the parent (dirty nil: unknown, read it).
type plan struct {
	zero  []bool
	dirty []bool
}

func (v *view) plan(ctx context.Context, cs int, useBitmap bool) (*plan, error) {
	n := snapshot.NumChunks(v.size, cs)
	p := &plan{zero: make([]bool, n)}
	for i := range p.zero {
		p.zero[i] = true
	}
	ext, err := v.nbd.BlockStatus(ctx, nbd.MetaAllocation, 0, v.size)
	if err != nil {
		return nil, err
	}
	mark(p.zero, ext, int64(cs), func(e nbd.Extent) bool { return e.Flags&nbd.StateZero == 0 }, false)
	if useBitmap && v.dirtyMeta != "" {
		ext, err := v.nbd.BlockStatus(ctx, v.dirtyMeta, 0, v.size)
		if err != nil {
			return nil, err
		}
		p.dirty = make([]bool, n)
		mark(p.dirty, ext, int64(cs), func(e nbd.Extent) bool { return e.Flags&nbd.StateDirty != 0 }, true)
	}
	return p, nil
}

// mark sets flags[i] = to for every chunk i that an extent matching hit
// touches.
func mark(flags []bool, ext []nbd.Extent, cs int64, hit func(nbd.Extent) bool, to bool) {
	for _, e := range ext {
		if !hit(e) || e.Length <= 0 {
			continue
		}
		for i := e.Offset / cs; i <= (e.Offset+e.Length-1)/cs && int(i) < len(flags); i++ {
			flags[i] = to
		}
	}
}

// chunkReader reads the view, answering chunks known to be zeros
// without asking the server.
type chunkReader struct {
	ctx  context.Context
	v    *view
	plan *plan
	cs   int64

	mu    sync.Mutex
	bytes int64
}

func (r *chunkReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.v.size {
		return 0, io.EOF
	}
	want := len(p)
	if rest := r.v.size - off; int64(want) > rest {
		p = p[:rest]
	}
	if off%r.cs == 0 && int64(len(p)) <= r.cs && r.plan.zero[off/r.cs] {
		clear(p)
	} else {
		if err := r.v.nbd.ReadAt(r.ctx, p, off); err != nil {
			return 0, err
		}
		r.mu.Lock()
		r.bytes += int64(len(p))
		r.mu.Unlock()
	}
	if len(p) < want {
		return len(p), io.EOF
	}
	return len(p), nil
}

func (r *chunkReader) read() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bytes
}

// countingObjects counts the bytes of chunks put.
type countingObjects struct {
	snapshot.Objects
	mu sync.Mutex
	n  int64
}

func (c *countingObjects) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	err := c.Objects.Put(ctx, key, r, size)
	if err == nil && len(key) > 7 && key[:7] == "chunks/" {
		c.mu.Lock()
		c.n += size
		c.mu.Unlock()
	}
	return err
}

func (c *countingObjects) uploaded() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
