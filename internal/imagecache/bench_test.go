package imagecache

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"testing"
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
