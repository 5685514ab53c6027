package snapshot

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestReadToSparseFile(t *testing.T) {
	s := &Store{Objects: NewMemObjects(), ChunkSize: testChunk}
	data := make([]byte, 64*testChunk+1000)
	copy(data[10*testChunk:], volume(testChunk, 1))
	copy(data[len(data)-500:], "tail")
	m := write(t, s, "snap-sparse", data)
	path := filepath.Join(t.TempDir(), "vol.raw")
	if err := os.WriteFile(path, bytes.Repeat([]byte{0xee}, 100*testChunk), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := s.ReadTo(t.Context(), m, f); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, data) {
		t.Fatalf("content differs (len %d, want %d)", len(got), len(data))
	}
	fi, _ := f.Stat()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks*512 > int64(4*testChunk) {
		t.Errorf("%d bytes allocated for %d bytes of data: zero chunks were written", st.Blocks*512, 2*testChunk)
	}
}

func TestReader(t *testing.T) {
	s := &Store{Objects: NewMemObjects(), ChunkSize: testChunk}
	data := volume(13*testChunk+333, 2)
	m := write(t, s, "snap-r", data)
	r, err := s.Reader(t.Context(), m)
	if err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	if _, err := io.CopyBuffer(&all, io.NewSectionReader(r, 0, r.Size()), make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(all.Bytes(), data) {
		t.Fatal("sequential read differs")
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 200 {
				off := rng.Int64N(int64(len(data)))
				p := make([]byte, rng.IntN(3*testChunk))
				n, err := r.ReadAt(p, off)
				want := data[off:min(int(off)+len(p), len(data))]
				if n != len(want) || !bytes.Equal(p[:n], want) {
					t.Errorf("ReadAt(%d, %d): %d bytes, differs", len(p), off, n)
					return
				}
				if (n < len(p)) != (err == io.EOF) {
					t.Errorf("ReadAt(%d, %d): n %d err %v", len(p), off, n, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n, err := r.ReadAt(make([]byte, 1), int64(len(data))); n != 0 || err != io.EOF {
		t.Errorf("read at end: %d %v", n, err)
	}
}

func TestCorruptionDetected(t *testing.T) {
	objs := NewMemObjects()
	s := &Store{Objects: objs, ChunkSize: testChunk}
	data := volume(6*testChunk, 3)
	for i := range 3 * testChunk {
		data[i] = byte(i) | 1 // chunks 0-2 are non-zero and distinct
	}
	m := write(t, s, "snap-c", data)
	ctx := t.Context()
	flip := bytes.Clone(data[:testChunk])
	flip[100] ^= 0x80
	_ = objs.Put(ctx, chunkKey(m.Chunks[0]), bytes.NewReader(flip), testChunk)
	_ = objs.Put(ctx, chunkKey(m.Chunks[1]), bytes.NewReader(data[testChunk:testChunk+10]), 10)
	_ = objs.Delete(ctx, chunkKey(m.Chunks[2]))
	for i, want := range []error{ErrCorrupt, ErrCorrupt, ErrNotFound} {
		r, _ := s.Reader(ctx, m)
		_, err := r.ReadAt(make([]byte, 10), int64(i)*testChunk)
		if !errors.Is(err, ErrCorrupt) || !errors.Is(err, want) {
			t.Errorf("chunk %d: %v, want ErrCorrupt and %v", i, err, want)
		}
	}
	if err := s.ReadTo(ctx, m, &memDisk{buf: make([]byte, len(data))}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ReadTo: %v, want ErrCorrupt", err)
	}
}

func TestManifestCorrupt(t *testing.T) {
	objs := NewMemObjects()
	s := &Store{Objects: objs}
	ctx := t.Context()
	bad := map[string]string{
		"snap-json":    `{"Version":1,`,
		"snap-version": `{"Version":2,"SnapshotID":"snap-version","ChunkSize":512,"VolumeSize":0}`,
		"snap-count":   `{"Version":1,"SnapshotID":"snap-count","ChunkSize":512,"VolumeSize":1024,"Chunks":[""]}`,
		"snap-hash":    `{"Version":1,"SnapshotID":"snap-hash","ChunkSize":512,"VolumeSize":512,"Chunks":["abc"]}`,
		"snap-id":      `{"Version":1,"SnapshotID":"snap-other","ChunkSize":512,"VolumeSize":0,"Chunks":[]}`,
	}
	for id, body := range bad {
		_ = objs.Put(ctx, manifestKey(id), strings.NewReader(body), int64(len(body)))
		if _, err := s.Manifest(ctx, id); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", id, err)
		}
	}
	if _, err := s.Manifest(ctx, "snap-none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
}

func TestManifestJSON(t *testing.T) {
	s := &Store{Objects: NewMemObjects(), ChunkSize: 4}
	write(t, s, "snap-j", []byte("abcd\x00\x00\x00\x00xy"))
	rc, err := s.Objects.Get(t.Context(), manifestKey("snap-j"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rc)
	want := `"Version":1,"SnapshotID":"snap-j","VolumeSize":10,"ChunkSize":4,"Chunks":["88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589","",`
	if !strings.Contains(string(body), want) {
		t.Errorf("manifest %s\nwant it to contain %s", body, want)
	}
}

// Chunk returns each chunk verified (zeros for an all-zero one) and
// refuses a corrupt one or an index out of range.
func TestChunk(t *testing.T) {
	objs := NewMemObjects()
	s := &Store{Objects: objs, ChunkSize: testChunk}
	data := make([]byte, 3*testChunk+100)
	copy(data, volume(testChunk, 4))
	copy(data[2*testChunk:], volume(testChunk+100, 5))
	m := write(t, s, "snap-k", data)
	ctx := t.Context()
	for i := range m.Chunks {
		got, err := s.Chunk(ctx, m, i, bytes.Repeat([]byte{0xee}, testChunk))
		if err != nil || !bytes.Equal(got, data[i*testChunk:min(len(data), (i+1)*testChunk)]) {
			t.Errorf("chunk %d: %d bytes, %v", i, len(got), err)
		}
	}
	if _, err := s.Chunk(ctx, m, len(m.Chunks), nil); err == nil {
		t.Error("chunk past the end read")
	}
	flip := bytes.Clone(data[:testChunk])
	flip[7] ^= 1
	_ = objs.Put(ctx, chunkKey(m.Chunks[0]), bytes.NewReader(flip), testChunk)
	if _, err := s.Chunk(ctx, m, 0, nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("corrupt chunk: %v, want ErrCorrupt", err)
	}
}
