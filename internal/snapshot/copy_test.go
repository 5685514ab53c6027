package snapshot

import (
	"errors"
	"testing"
)

func TestCopy(t *testing.T) {
	objs := NewMemObjects()
	s := &Store{Objects: objs, ChunkSize: testChunk}
	data := volume(9*testChunk+1, 1)
	write(t, s, "snap-src", data)
	chunks := len(keys(t, objs, chunksPrefix))
	c, err := s.Copy(t.Context(), "snap-src", "snap-dst")
	if err != nil {
		t.Fatal(err)
	}
	if c.Parent != "snap-src" || len(keys(t, objs, chunksPrefix)) != chunks {
		t.Fatalf("copy %+v stored new chunks", c)
	}
	if _, err := s.Copy(t.Context(), "snap-src", "snap-dst"); err != nil {
		t.Fatalf("copy again: %v", err)
	}
	if err := s.Delete(t.Context(), "snap-src"); err != nil {
		t.Fatal(err)
	}
	readBack(t, s, c, data)
	write(t, s, "snap-other", volume(9*testChunk+1, 2))
	if _, err := s.Copy(t.Context(), "snap-other", "snap-dst"); !errors.Is(err, ErrExists) {
		t.Fatalf("copy onto a different snapshot: %v, want ErrExists", err)
	}
	if _, err := s.Copy(t.Context(), "snap-gone", "snap-x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing source: %v", err)
	}
}
