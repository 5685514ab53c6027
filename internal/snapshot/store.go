// Package snapshot keeps EBS-style snapshots in an object store as
// fixed-size content-addressed chunks plus a manifest, so snapshots are
// incremental, share identical chunks, and a volume can be rebuilt from
// them on any host.
//
// Layout: snapshots/<id>/manifest.json (JSON, versioned) and
// chunks/<aa>/<sha256 hex> (aa = the digest's first two hex digits).
// All-zero chunks are not stored. A snapshot exists once its manifest does:
// Write uploads every chunk first and the manifest last.
//
// Garbage collection (Delete, GC) takes every manifest in the object store
// as the live set. Store serializes writes against collection in its
// process; Kumo runs both from the reconciler lease holder only, and two
// processes must not write and collect on one object store at once.
package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Defaults for Store's zero fields.
const (
	DefaultChunkSize   = 512 << 10 // as AWS's EBS direct APIs
	DefaultConcurrency = 4
)

// Errors wrapped by Store's methods.
var (
	// ErrCorrupt: a chunk's bytes do not match its hash or length, a chunk a
	// manifest references is missing, or a manifest cannot be read.
	ErrCorrupt = errors.New("snapshot data corrupt")
	// ErrExists: Write was asked to make a snapshot whose manifest exists
	// with different contents.
	ErrExists = errors.New("snapshot already exists")
)

// Store reads and writes snapshots in Objects. Use it by pointer; it must
// not be copied after first use.
type Store struct {
	Objects Objects
	// ChunkSize for new snapshots; 0 means DefaultChunkSize. Incremental
	// snapshots keep their parent's.
	ChunkSize int
	// Concurrency bounds chunk uploads and downloads in flight; 0 means
	// DefaultConcurrency.
	Concurrency int
	// Now stamps manifests; nil means time.Now.
	Now func() time.Time

	gc sync.RWMutex // writers share it, collection holds it alone
}

func (s *Store) chunkSize() int {
	if s.ChunkSize <= 0 {
		return DefaultChunkSize
	}
	return s.ChunkSize
}

func (s *Store) concurrency() int {
	if s.Concurrency <= 0 {
		return DefaultConcurrency
	}
	return s.Concurrency
}

func (s *Store) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now()
}

// Manifest reads a snapshot's manifest; a missing snapshot gives an error
// wrapping ErrNotFound, an unreadable one ErrCorrupt.
func (s *Store) Manifest(ctx context.Context, snapshotID string) (*Manifest, error) {
	if err := checkID(snapshotID); err != nil {
		return nil, err
	}
	rc, err := s.Objects.Get(ctx, manifestKey(snapshotID))
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", snapshotID, err)
	}
	defer rc.Close()
	var m Manifest
	if err := json.NewDecoder(rc).Decode(&m); err != nil {
		return nil, fmt.Errorf("snapshot %s: decode manifest: %w: %w", snapshotID, ErrCorrupt, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w: %w", snapshotID, ErrCorrupt, err)
	}
	if m.SnapshotID != snapshotID {
		return nil, fmt.Errorf("snapshot %s: manifest names %q: %w", snapshotID, m.SnapshotID, ErrCorrupt)
	}
	return &m, nil
}

func (s *Store) putManifest(ctx context.Context, m *Manifest) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("snapshot %s: encode manifest: %w", m.SnapshotID, err)
	}
	if err := s.Objects.Put(ctx, manifestKey(m.SnapshotID), bytes.NewReader(data), int64(len(data))); err != nil {
		return fmt.Errorf("snapshot %s: write manifest: %w", m.SnapshotID, err)
	}
	return nil
}

// Workers is how many chunk fetches a caller filling a volume chunk by
// chunk should run at once: the store's Concurrency.
func (s *Store) Workers() int { return s.concurrency() }
