package imagecache

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/kumo-cloud/kumo/internal/snapshot"
)

// BenchmarkRootDisk times making a root disk on a cached base, for a small
// and a large image: the two should cost the same.
func BenchmarkRootDisk(b *testing.B) {
	for _, size := range []int64{1 << 30, 8 << 30} {
		b.Run(fmt.Sprintf("image=%dGiB", size>>30), func(b *testing.B) {
			c, _, disks := newCache(b)
			c.Snapshots.ChunkSize = 4 << 20
			head := pattern(1<<20, 6)
			src := io.MultiReader(bytes.NewReader(head), io.LimitReader(zeros{}, size-int64(len(head))))
			putSnapshot(b, c, "snap-1", src, size)
			if _, err := c.Base(b.Context(), "snap-1"); err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				i++
				if err := c.RootDisk(b.Context(), "snap-1", filepath.Join(disks, fmt.Sprintf("root-%d.qcow2", i)), 8); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFirstRootDisk times what a first launch waits for before QEMU
// can start, on a 2 GiB image holding 512 MiB of data (every fourth 512
// KiB chunk) in an object store on disk: mode=eager is RootDisk (the whole
// base first, as every first launch did before), mode=lazy is LazyRootDisk
// with the cache serving NBD (the overlay only; the base is filled in the
// background, outside the timer, before the next iteration).
func BenchmarkFirstRootDisk(b *testing.B) {
	for _, mode := range []string{"eager", "lazy"} {
		b.Run("mode="+mode, func(b *testing.B) {
			c, _, disks := newCache(b)
			objs, err := snapshot.NewDirObjects(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			c.Snapshots = &snapshot.Store{Objects: objs}
			const size = 2 << 30
			putSnapshot(b, c, "snap-1", &quarterData{left: size}, size)
			if mode == "lazy" {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if _, err := c.StartNBD(ctx); err != nil {
					b.Fatal(err)
				}
			}
			i := 0
			for b.Loop() {
				i++
				disk := filepath.Join(disks, fmt.Sprintf("root-%d.qcow2", i))
				if _, err := c.LazyRootDisk(b.Context(), "snap-1", disk, 8); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				base, err := c.Base(b.Context(), "snap-1") // a lazy fill: wait for it
				if err != nil {
					b.Fatal(err)
				}
				os.Remove(base)
				b.StartTimer()
			}
		})
	}
}

// quarterData reads as chunks of 512 KiB of which every fourth holds
// random bytes and the others zeros.
type quarterData struct {
	left, off int64
	rng       *rand.ChaCha8
}

func (q *quarterData) Read(p []byte) (int, error) {
	if q.left == 0 {
		return 0, io.EOF
	}
	if q.rng == nil {
		q.rng = rand.NewChaCha8([32]byte{1})
	}
	const chunk = snapshot.DefaultChunkSize
	n := int(min(int64(len(p)), q.left, chunk-q.off%chunk))
	if (q.off/chunk)%4 == 0 {
		q.rng.Read(p[:n])
	} else {
		clear(p[:n])
	}
	q.off += int64(n)
	q.left -= int64(n)
	return n, nil
}
