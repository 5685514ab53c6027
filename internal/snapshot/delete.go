package snapshot

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Delete removes snapshot snapshotID: its manifest first (the snapshot is
// gone from then on), then those of its chunks no other manifest in the
// store references. Deleting a missing snapshot succeeds. A crash or error
// between the steps leaves unreferenced chunks behind, never removes a
// referenced one; GC collects the leftovers.
func (s *Store) Delete(ctx context.Context, snapshotID string) error {
	if err := checkID(snapshotID); err != nil {
		return err
	}
	s.gc.Lock()
	defer s.gc.Unlock()
	m, err := s.Manifest(ctx, snapshotID)
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrCorrupt) {
		return err
	}
	if err := s.Objects.Delete(ctx, manifestKey(snapshotID)); err != nil {
		return fmt.Errorf("snapshot %s: delete manifest: %w", snapshotID, err)
	}
	if m == nil {
		return nil // gone already, or unreadable: GC will sweep its chunks
	}
	candidates := map[Hash]struct{}{}
	for _, h := range m.Chunks {
		if !h.IsZero() {
			candidates[h] = struct{}{}
		}
	}
	if err := s.unmark(ctx, candidates); err != nil {
		return fmt.Errorf("snapshot %s: collect chunks: %w", snapshotID, err)
	}
	if err := s.sweep(ctx, candidates); err != nil {
		return fmt.Errorf("snapshot %s: collect chunks: %w", snapshotID, err)
	}
	return nil
}

// GCStats says what a collection found.
type GCStats struct {
	Manifests int // live snapshots
	Chunks    int // chunk objects found
	Deleted   int // of which unreferenced and deleted
}

// GC deletes every chunk no manifest in the store references: the leftovers
// of interrupted writes and deletes. It reads every manifest and lists every
// chunk, so run it now and then, not after each Delete.
func (s *Store) GC(ctx context.Context) (GCStats, error) {
	s.gc.Lock()
	defer s.gc.Unlock()
	var st GCStats
	live := map[Hash]struct{}{}
	err := s.eachManifest(ctx, func(m *Manifest) bool {
		st.Manifests++
		for _, h := range m.Chunks {
			live[h] = struct{}{}
		}
		return true
	})
	if err != nil {
		return st, fmt.Errorf("snapshot gc: %w", err)
	}
	keys, err := s.Objects.List(ctx, chunksPrefix)
	if err != nil {
		return st, fmt.Errorf("snapshot gc: %w", err)
	}
	dead := map[Hash]struct{}{}
	for _, k := range keys {
		h, ok := parseChunkKey(k)
		if !ok {
			continue // not ours: leave it
		}
		st.Chunks++
		if _, used := live[h]; !used {
			dead[h] = struct{}{}
		}
	}
	err = s.sweep(ctx, dead)
	st.Deleted = len(dead)
	if err != nil {
		return st, fmt.Errorf("snapshot gc: %w", err)
	}
	return st, nil
}

// unmark removes from candidates every chunk a manifest in the store uses.
func (s *Store) unmark(ctx context.Context, candidates map[Hash]struct{}) error {
	return s.eachManifest(ctx, func(m *Manifest) bool {
		for _, h := range m.Chunks {
			delete(candidates, h)
		}
		return len(candidates) > 0
	})
}

// eachManifest calls fn with every manifest in the store until it returns
// false. Any manifest it cannot read stops it with an error: collecting
// without knowing what that snapshot references could destroy it.
func (s *Store) eachManifest(ctx context.Context, fn func(*Manifest) bool) error {
	keys, err := s.Objects.List(ctx, snapshotsPrefix)
	if err != nil {
		return err
	}
	for _, k := range keys {
		id, ok := strings.CutSuffix(strings.TrimPrefix(k, snapshotsPrefix), "/"+manifestName)
		if !ok || strings.Contains(id, "/") {
			continue
		}
		m, err := s.Manifest(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since the listing
		}
		if err != nil {
			return err
		}
		if !fn(m) {
			return nil
		}
	}
	return nil
}

// sweep deletes the chunks in dead.
func (s *Store) sweep(ctx context.Context, dead map[Hash]struct{}) error {
	for h := range dead {
		if err := s.Objects.Delete(ctx, chunkKey(h)); err != nil {
			return err
		}
	}
	return nil
}

// parseChunkKey reads "chunks/aa/<64 hex>".
func parseChunkKey(key string) (Hash, bool) {
	rest, ok := strings.CutPrefix(key, chunksPrefix)
	if !ok || len(rest) != 3+2*len(Hash{}) || rest[2] != '/' || rest[:2] != rest[3:5] {
		return Hash{}, false
	}
	h, err := ParseHash(rest[3:])
	return h, err == nil && !h.IsZero()
}

// IDs lists the snapshots that have a manifest in the store.
func (s *Store) IDs(ctx context.Context) ([]string, error) {
	keys, err := s.Objects.List(ctx, snapshotsPrefix)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var out []string
	for _, k := range keys {
		rest := strings.TrimPrefix(k, snapshotsPrefix)
		if id, name, ok := strings.Cut(rest, "/"); ok && name == manifestName {
			out = append(out, id)
		}
	}
	return out, nil
}
