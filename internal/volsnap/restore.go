package volsnap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/kumo-cloud/kumo/internal/qemuimg"
	"github.com/kumo-cloud/kumo/internal/snapshot"
	"github.com/kumo-cloud/kumo/internal/volsnap/nbd"
)

// RestoreOptions of Restore.
type RestoreOptions struct {
	// TempDir holds qemu-nbd's socket while the volume is written.
	TempDir string
	// Concurrency of chunk downloads (0: 4).
	Concurrency int
	// Progress, if set, is called with the percent of chunks written.
	Progress func(percent int)
}

// Restore creates the qcow2 volume file path of size bytes (at least the
// snapshot's) holding snapshot m's bytes, zeros beyond them, for
// CreateVolume from a snapshot. Only non-zero chunks are written, so the
// file stays sparse; every chunk is verified against its hash. The data is
// written to path + ".restoring" and renamed when complete and flushed: a
// file at path is always whole, and a retry starts over.
func Restore(ctx context.Context, objs snapshot.Objects, m *snapshot.Manifest, path string, size int64, opts RestoreOptions) error {
	if err := restore(ctx, objs, m, path, size, opts); err != nil {
		return fmt.Errorf("restore snapshot %s to %s: %w", m.SnapshotID, path, err)
	}
	return nil
}

func restore(ctx context.Context, objs snapshot.Objects, m *snapshot.Manifest, path string, size int64, opts RestoreOptions) error {
	if size < m.VolumeSize {
		return fmt.Errorf("volume size %d is smaller than the snapshot's %d", size, m.VolumeSize)
	}
	if opts.TempDir == "" {
		return errors.New("no TempDir")
	}
	store := &snapshot.Store{Objects: objs}
	r, err := store.Reader(ctx, m)
	if err != nil {
		return err
	}
	tmp := path + ".restoring"
	stopLeftoverNBD(opts.TempDir, tmp)
	os.Remove(tmp)
	if err := (qemuimg.Tool{}).Create(ctx, tmp, "qcow2", size, "", ""); err != nil {
		return err
	}
	n := opts.Concurrency
	if n <= 0 {
		n = 4
	}
	srv, c, err := startQemuNBDShared(ctx, opts.TempDir, tmp, false, n, "")
	if err != nil {
		os.Remove(tmp)
		return err
	}
	clients := []*nbd.Client{c}
	for len(clients) < n && err == nil {
		if c, err = srv.dial(ctx); err == nil {
			clients = append(clients, c)
		}
	}
	if err == nil {
		err = writeChunks(ctx, m, r, clients, opts)
	}
	for _, c := range clients {
		if err == nil {
			err = c.Flush(ctx)
		}
		c.Close()
	}
	srv.kill()
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// writeChunks fetches the non-zero chunks (verified) and writes them.
func writeChunks(ctx context.Context, m *snapshot.Manifest, r *snapshot.VolumeReader, clients []*nbd.Client, opts RestoreOptions) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var todo []int
	for i, h := range m.Chunks {
		if !h.IsZero() {
			todo = append(todo, i)
		}
	}
	next := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for _, c := range clients {
		wg.Go(func() {
			buf := make([]byte, m.ChunkSize)
			for i := range next {
				off := int64(i) * int64(m.ChunkSize)
				b := buf[:m.ChunkLen(i)]
				if _, err := r.ReadAt(b, off); err != nil {
					cancel(err)
					continue
				}
				if err := c.WriteAt(ctx, b, off); err != nil {
					cancel(err)
					continue
				}
				mu.Lock()
				done++
				if opts.Progress != nil {
					opts.Progress(done * 100 / len(todo))
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, i := range todo {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}
