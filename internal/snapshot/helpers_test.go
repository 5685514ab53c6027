package snapshot

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
)

const testChunk = 64 << 10 // small chunks keep tests fast

// backends runs fn once per Objects implementation.
func backends(t *testing.T, fn func(t *testing.T, objs Objects)) {
	t.Run("mem", func(t *testing.T) { fn(t, NewMemObjects()) })
	t.Run("dir", func(t *testing.T) {
		d, err := NewDirObjects(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		d.NoSync = true
		fn(t, d)
	})
}

// volume builds size bytes: chunk-sized runs of random data, zeros and a
// repeated byte, so writes see unique, empty and duplicate chunks.
func volume(size int, seed uint64) []byte {
	b := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, 7))
	src := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	for off := 0; off < size; off += testChunk {
		end := min(off+testChunk, size)
		switch rng.IntN(4) {
		case 0: // zeros
		case 1:
			for i := off; i < end; i++ {
				b[i] = 0x5a
			}
		default:
			_, _ = src.Read(b[off:end])
		}
	}
	return b
}

// memDisk is an io.WriterAt over a byte slice, like a block device.
type memDisk struct {
	mu  sync.Mutex
	buf []byte
}

func (d *memDisk) WriteAt(p []byte, off int64) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if int(off)+len(p) > len(d.buf) {
		return 0, errors.New("write past the end of the disk")
	}
	return copy(d.buf[off:], p), nil
}

// flakyObjects fails every Put after the first okPuts.
type flakyObjects struct {
	Objects
	mu     sync.Mutex
	okPuts int
	puts   int
}

var errInjected = errors.New("injected failure")

func (f *flakyObjects) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	f.mu.Lock()
	f.puts++
	fail := f.puts > f.okPuts
	f.mu.Unlock()
	if fail {
		return errInjected
	}
	return f.Objects.Put(ctx, key, r, size)
}

func keys(t *testing.T, objs Objects, prefix string) []string {
	t.Helper()
	k, err := objs.List(t.Context(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func write(t *testing.T, s *Store, id string, data []byte) *Manifest {
	t.Helper()
	m, err := s.Write(t.Context(), id, bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatalf("write %s: %v", id, err)
	}
	return m
}

// readBack rebuilds m into memory and compares it with want.
func readBack(t *testing.T, s *Store, m *Manifest, want []byte) {
	t.Helper()
	disk := &memDisk{buf: bytes.Repeat([]byte{0xff}, len(want))}
	if err := s.ReadTo(t.Context(), m, disk); err != nil {
		t.Fatalf("read %s: %v", m.SnapshotID, err)
	}
	if !bytes.Equal(disk.buf, want) {
		t.Fatalf("read %s: content differs", m.SnapshotID)
	}
}
