package snapshot

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

const benchSize = 256 << 20

// benchVolume is benchSize random bytes; stamp makes every chunk unique to
// one iteration, so no write dedupes against an earlier one.
func benchVolume() []byte {
	b := make([]byte, benchSize)
	_, _ = rand.NewChaCha8([32]byte{42}).Read(b)
	return b
}

func stamp(b []byte, iter int) {
	for off := 0; off < len(b); off += DefaultChunkSize {
		binary.LittleEndian.PutUint64(b[off:], uint64(iter))
	}
}

func benchStore(b *testing.B, sync bool) *Store {
	objs, err := NewDirObjects(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	objs.NoSync = !sync
	return &Store{Objects: objs}
}

// BenchmarkWrite stores 256 MiB of unique data on DirObjects.
func BenchmarkWrite(b *testing.B) {
	for _, sync := range []bool{true, false} {
		b.Run(fmt.Sprintf("fsync=%v", sync), func(b *testing.B) {
			data := benchVolume()
			s := benchStore(b, sync)
			b.SetBytes(benchSize)
			i := 0
			for b.Loop() {
				b.StopTimer()
				stamp(data, i)
				id := fmt.Sprintf("snap-%d", i)
				i++
				b.StartTimer()
				if _, err := s.Write(b.Context(), id, bytes.NewReader(data), benchSize, nil); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := s.Delete(b.Context(), id); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkWriteDeduped stores 256 MiB whose chunks are all in the store
// already: hashing and existence checks only.
func BenchmarkWriteDeduped(b *testing.B) {
	data := benchVolume()
	s := benchStore(b, false)
	write := func(id string) {
		if _, err := s.Write(b.Context(), id, bytes.NewReader(data), benchSize, nil); err != nil {
			b.Fatal(err)
		}
	}
	write("snap-base")
	b.SetBytes(benchSize)
	i := 0
	for b.Loop() {
		write(fmt.Sprintf("snap-%d", i))
		i++
	}
}

// BenchmarkRead rebuilds a 256 MiB volume from DirObjects into a new file,
// verifying every chunk (objects mostly in the page cache).
func BenchmarkRead(b *testing.B) {
	data := benchVolume()
	s := benchStore(b, false)
	m, err := s.Write(b.Context(), "snap-r", bytes.NewReader(data), benchSize, nil)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	b.SetBytes(benchSize)
	for b.Loop() {
		f, err := os.Create(filepath.Join(dir, "vol.raw"))
		if err != nil {
			b.Fatal(err)
		}
		if err := s.ReadTo(b.Context(), m, f); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkReader streams a 256 MiB volume through VolumeReader in 1 MiB reads.
func BenchmarkReader(b *testing.B) {
	data := benchVolume()
	s := benchStore(b, false)
	m, err := s.Write(b.Context(), "snap-r", bytes.NewReader(data), benchSize, nil)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(benchSize)
	for b.Loop() {
		r, err := s.Reader(b.Context(), m)
		if err != nil {
			b.Fatal(err)
		}
		for off := int64(0); off < benchSize; off += int64(len(buf)) {
			if _, err := r.ReadAt(buf, off); err != nil {
				b.Fatal(err)
			}
		}
	}
}
