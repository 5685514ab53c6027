package snapshot

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDeleteKeepsSharedChunks(t *testing.T) {
	backends(t, func(t *testing.T, objs Objects) {
		s := &Store{Objects: objs, ChunkSize: testChunk}
		a := volume(10*testChunk, 1)
		b := bytes.Clone(a)
		copy(b[4*testChunk:], bytes.Repeat([]byte{0x77}, testChunk)) // b has one chunk of its own
		ma := write(t, s, "snap-a", a)
		mb := write(t, s, "snap-b", b)
		before := keys(t, objs, chunksPrefix)
		if err := s.Delete(t.Context(), "snap-b"); err != nil {
			t.Fatal(err)
		}
		after := keys(t, objs, chunksPrefix)
		if len(after) != len(before)-1 || slices.Contains(after, chunkKey(mb.Chunks[4])) {
			t.Fatalf("chunks %d → %d; b's own chunk kept: %v", len(before), len(after), slices.Contains(after, chunkKey(mb.Chunks[4])))
		}
		if _, err := s.Manifest(t.Context(), "snap-b"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted manifest: %v", err)
		}
		readBack(t, s, ma, a)
		if err := s.Delete(t.Context(), "snap-b"); err != nil {
			t.Fatalf("second delete: %v", err)
		}
		if err := s.Delete(t.Context(), "snap-a"); err != nil {
			t.Fatal(err)
		}
		if k := keys(t, objs, ""); len(k) != 0 {
			t.Fatalf("objects left after deleting everything: %q", k)
		}
	})
}

// GC collects what interrupted writes and deletes left behind, and nothing
// a manifest needs.
func TestGC(t *testing.T) {
	objs := NewMemObjects()
	s := &Store{Objects: objs, ChunkSize: testChunk}
	keep := volume(8*testChunk, 1)
	mk := write(t, s, "snap-keep", keep)
	orphan := volume(8*testChunk, 2)
	flaky := &Store{Objects: &flakyObjects{Objects: objs, okPuts: 3}, ChunkSize: testChunk}
	if _, err := flaky.Write(t.Context(), "snap-crashed", bytes.NewReader(orphan), int64(len(orphan)), nil); err == nil {
		t.Fatal("flaky write succeeded")
	}
	_ = objs.Put(t.Context(), "chunks/zz/not-a-chunk", strings.NewReader("x"), 1)
	// The failed write's chunks left behind: up to okPuts of them (an
	// upload that was cancelled mid-way by another worker's failure stores
	// nothing).
	needed := map[string]bool{"chunks/zz/not-a-chunk": true}
	for _, h := range mk.Chunks {
		if h != (Hash{}) { // a zero chunk is not stored
			needed[chunkKey(h)] = true
		}
	}
	orphans := 0
	for _, k := range keys(t, objs, chunksPrefix) {
		if !needed[k] {
			orphans++
		}
	}
	if orphans == 0 || orphans > 3 {
		t.Fatalf("the interrupted write left %d chunks, want 1..3", orphans)
	}
	st, err := s.GC(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Manifests != 1 || st.Deleted != orphans || st.Chunks != orphans+len(keys(t, objs, chunksPrefix))-1 {
		t.Fatalf("stats %+v, %d orphans", st, orphans)
	}
	readBack(t, s, mk, keep)
	if ok, _ := objs.Exists(t.Context(), "chunks/zz/not-a-chunk"); !ok {
		t.Error("GC removed an object that is not a chunk")
	}
}

// An unreadable manifest stops collection rather than risk its chunks.
func TestGCStopsOnUnreadableManifest(t *testing.T) {
	objs := NewMemObjects()
	s := &Store{Objects: objs, ChunkSize: testChunk}
	write(t, s, "snap-a", volume(4*testChunk, 1))
	_ = objs.Put(t.Context(), manifestKey("snap-bad"), strings.NewReader("{"), 1)
	if _, err := s.GC(t.Context()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("gc: %v, want ErrCorrupt", err)
	}
	if err := s.Delete(t.Context(), "snap-bad"); err != nil {
		t.Fatalf("deleting the unreadable snapshot: %v", err)
	}
	if _, err := s.GC(t.Context()); err != nil {
		t.Fatal(err)
	}
}
