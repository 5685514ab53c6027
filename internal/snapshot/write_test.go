package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

func TestWriteReadRoundTrip(t *testing.T) {
	sizes := []int{0, 1, testChunk - 1, testChunk, testChunk + 1, 5*testChunk + 12345}
	backends(t, func(t *testing.T, objs Objects) {
		s := &Store{Objects: objs, ChunkSize: testChunk}
		for i, size := range sizes {
			data := volume(size, uint64(i))
			m := write(t, s, fmt.Sprintf("snap-%d", i), data)
			if m.VolumeSize != int64(size) || len(m.Chunks) != NumChunks(int64(size), testChunk) {
				t.Fatalf("size %d: manifest %d bytes, %d chunks", size, m.VolumeSize, len(m.Chunks))
			}
			stored, err := s.Manifest(t.Context(), m.SnapshotID)
			if err != nil {
				t.Fatal(err)
			}
			readBack(t, s, stored, data)
		}
	})
}

func TestWriteSkipsZeroChunks(t *testing.T) {
	s := &Store{Objects: NewMemObjects(), ChunkSize: testChunk}
	data := make([]byte, 10*testChunk+100)
	copy(data[3*testChunk:], "not zero")
	m := write(t, s, "snap-sparse", data)
	for i, h := range m.Chunks {
		if h.IsZero() != (i != 3) {
			t.Errorf("chunk %d: hash %q", i, h)
		}
	}
	if k := keys(t, s.Objects, chunksPrefix); len(k) != 1 {
		t.Fatalf("stored chunks %q, want 1", k)
	}
	if m.StoredBytes() != testChunk {
		t.Errorf("stored bytes %d", m.StoredBytes())
	}
	readBack(t, s, m, data)
}

func TestWriteDedupes(t *testing.T) {
	objs := NewMemObjects()
	s := &Store{Objects: objs, ChunkSize: testChunk}
	a := volume(20*testChunk, 1)
	b := bytes.Clone(a)
	copy(b[7*testChunk:], bytes.Repeat([]byte{1}, testChunk)) // one chunk changed
	write(t, s, "snap-a", a)
	before := len(keys(t, objs, chunksPrefix))
	counter := &flakyObjects{Objects: objs, okPuts: 1 << 30}
	s.Objects = counter
	mb := write(t, s, "snap-b", b)
	if counter.puts != 2 { // the changed chunk and the manifest
		t.Errorf("second snapshot made %d puts, want 2", counter.puts)
	}
	if after := len(keys(t, objs, chunksPrefix)); after != before+1 {
		t.Errorf("chunks %d → %d, want one more", before, after)
	}
	readBack(t, s, mb, b)
}

// A write interrupted after some puts leaves no manifest; running it
// again completes it, uploading only what is missing.
func TestWriteInterruptedThenRetried(t *testing.T) {
	backends(t, func(t *testing.T, objs Objects) {
		for _, okPuts := range []int{0, 1, 5, 12} {
			data := volume(40*testChunk+99, uint64(30+okPuts))
			id := fmt.Sprintf("snap-%d", okPuts)
			flaky := &flakyObjects{Objects: objs, okPuts: okPuts}
			s := &Store{Objects: flaky, ChunkSize: testChunk}
			_, err := s.Write(t.Context(), id, bytes.NewReader(data), int64(len(data)), nil)
			if !errors.Is(err, errInjected) {
				t.Fatalf("okPuts %d: err %v", okPuts, err)
			}
			if _, err := s.Manifest(t.Context(), id); !errors.Is(err, ErrNotFound) {
				t.Fatalf("okPuts %d: manifest after failed write: %v", okPuts, err)
			}
			s.Objects = objs
			m := write(t, s, id, data)
			readBack(t, s, m, data)
		}
	})
}

func TestWriteIsIdempotent(t *testing.T) {
	s := &Store{Objects: NewMemObjects(), ChunkSize: testChunk}
	data := volume(4*testChunk, 4)
	first := write(t, s, "snap-x", data)
	again, err := s.Write(t.Context(), "snap-x", failingReader{}, int64(len(data)), nil)
	if err != nil || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("rewrite: %v", err)
	}
	if _, err := s.Write(t.Context(), "snap-x", bytes.NewReader(nil), 0, nil); !errors.Is(err, ErrExists) {
		t.Fatalf("different size: %v, want ErrExists", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("must not be read") }

func TestWriteErrors(t *testing.T) {
	s := &Store{Objects: NewMemObjects(), ChunkSize: testChunk}
	ctx := t.Context()
	if _, err := s.Write(ctx, "snap-short", strings.NewReader("abc"), 10, nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short reader: %v", err)
	}
	for _, id := range []string{"", "../x", "a/b", ".hidden", strings.Repeat("x", 129)} {
		if _, err := s.Write(ctx, id, strings.NewReader(""), 0, nil); err == nil {
			t.Errorf("id %q accepted", id)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	data := volume(8*testChunk, 5)
	if _, err := s.Write(cctx, "snap-cancel", bytes.NewReader(data), int64(len(data)), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if k := keys(t, s.Objects, snapshotsPrefix); len(k) != 0 {
		t.Errorf("manifests after errors: %q", k)
	}
}

func TestWriteProgress(t *testing.T) {
	s := &Store{Objects: NewMemObjects(), ChunkSize: testChunk}
	data := volume(9*testChunk+7, 6)
	var mu sync.Mutex
	var calls []int64
	_, err := s.Write(t.Context(), "snap-p", bytes.NewReader(data), int64(len(data)), func(done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		if total != int64(len(data)) {
			t.Errorf("total %d", total)
		}
		calls = append(calls, done)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 10 || calls[9] != int64(len(data)) {
		t.Fatalf("progress %v", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i] <= calls[i-1] {
			t.Fatalf("progress not increasing: %v", calls)
		}
	}
}

func TestWriteIncremental(t *testing.T) {
	objs := NewMemObjects()
	s := &Store{Objects: objs, ChunkSize: testChunk}
	base := volume(12*testChunk+500, 8)
	parent := write(t, s, "snap-parent", base)
	next := bytes.Clone(base)
	copy(next[2*testChunk+10:], "changed")
	next = append(next, volume(testChunk, 9)...) // the volume grew
	changed := func(i int) bool { return i == 2 }
	m, err := s.WriteIncremental(t.Context(), "snap-child", parent, bytes.NewReader(next), int64(len(next)), changed, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Parent != "snap-parent" || m.Chunks[0] != parent.Chunks[0] || m.Chunks[2] == parent.Chunks[2] {
		t.Fatalf("manifest %+v", m)
	}
	readBack(t, s, m, next)
	if err := s.Delete(t.Context(), "snap-parent"); err != nil {
		t.Fatal(err)
	}
	readBack(t, s, m, next)
	_, err = s.WriteIncremental(t.Context(), "snap-orphan", parent, bytes.NewReader(next), int64(len(next)), changed, nil)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted parent: %v, want ErrNotFound", err)
	}
}

// Writes and deletes of many snapshots at once keep every live snapshot
// intact (run with -race).
func TestConcurrentWritesAndDeletes(t *testing.T) {
	backends(t, func(t *testing.T, objs Objects) {
		s := &Store{Objects: objs, ChunkSize: testChunk, Concurrency: 3}
		shared := volume(16*testChunk, 10)
		var wg sync.WaitGroup
		datas := make([][]byte, 8)
		for i := range datas {
			datas[i] = bytes.Clone(shared)
			copy(datas[i][i*testChunk:], volume(testChunk, uint64(100+i)))
			wg.Go(func() {
				write(t, s, fmt.Sprintf("snap-keep-%d", i), datas[i])
				id := fmt.Sprintf("snap-drop-%d", i)
				write(t, s, id, volume(6*testChunk, uint64(200+i)))
				if err := s.Delete(t.Context(), id); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for i, d := range datas {
			m, err := s.Manifest(t.Context(), fmt.Sprintf("snap-keep-%d", i))
			if err != nil {
				t.Fatal(err)
			}
			readBack(t, s, m, d)
		}
		if st, err := s.GC(t.Context()); err != nil || st.Deleted != 0 || st.Manifests != 8 {
			t.Fatalf("gc after deletes: %+v %v", st, err)
		}
	})
}
