package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// ManifestVersion is the manifest format written by this package.
const ManifestVersion = 1

// Hash is the SHA-256 of a chunk's bytes. The zero Hash stands for an
// all-zero chunk, which is not stored; in JSON it is "".
type Hash [sha256.Size]byte

// IsZero reports whether h stands for an all-zero chunk.
func (h Hash) IsZero() bool { return h == Hash{} }

// String is the lowercase hex digest, or "" for the zero Hash.
func (h Hash) String() string {
	if h.IsZero() {
		return ""
	}
	return hex.EncodeToString(h[:])
}

func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

func (h *Hash) UnmarshalText(b []byte) error {
	parsed, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = parsed
	return nil
}

// ParseHash reads 64 hex digits, or "" as the zero Hash.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if s == "" {
		return h, nil
	}
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("chunk hash %q: want %d hex digits", s, 2*len(h))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("chunk hash %q: %w", s, err)
	}
	return h, nil
}

// Manifest describes one snapshot: the volume's size and, per chunk index,
// the hash of the chunk's bytes. The snapshot exists once its manifest does.
type Manifest struct {
	Version    int
	SnapshotID string
	VolumeSize int64 // bytes
	ChunkSize  int   // bytes; the last chunk may be shorter
	Chunks     []Hash
	Parent     string `json:",omitempty"` // snapshot this one was made incrementally from
	CreatedAt  time.Time
}

// NumChunks is how many chunks a volume of size bytes has.
func NumChunks(size int64, chunkSize int) int {
	return int((size + int64(chunkSize) - 1) / int64(chunkSize))
}

// ChunkLen is the length of chunk i (the last one may be short).
func (m *Manifest) ChunkLen(i int) int {
	return chunkLen(m.VolumeSize, m.ChunkSize, i)
}

func chunkLen(size int64, chunkSize, i int) int {
	return int(min(int64(chunkSize), size-int64(i)*int64(chunkSize)))
}

// StoredBytes is the size of the snapshot's non-zero chunks: what it would
// occupy without sharing chunks with other snapshots.
func (m *Manifest) StoredBytes() int64 {
	var n int64
	for i, h := range m.Chunks {
		if !h.IsZero() {
			n += int64(m.ChunkLen(i))
		}
	}
	return n
}

// Largest chunk a manifest may declare: readers allocate buffers of it.
const maxChunkSize = 64 << 20

// validate checks a manifest read from the store (or given by a caller).
func (m *Manifest) validate() error {
	switch {
	case m == nil:
		return errors.New("nil manifest")
	case m.Version != ManifestVersion:
		return fmt.Errorf("manifest %s: version %d, want %d", m.SnapshotID, m.Version, ManifestVersion)
	case m.ChunkSize <= 0 || m.ChunkSize > maxChunkSize:
		return fmt.Errorf("manifest %s: chunk size %d", m.SnapshotID, m.ChunkSize)
	case m.VolumeSize < 0:
		return fmt.Errorf("manifest %s: volume size %d", m.SnapshotID, m.VolumeSize)
	case len(m.Chunks) != NumChunks(m.VolumeSize, m.ChunkSize):
		return fmt.Errorf("manifest %s: %d chunks for %d bytes in chunks of %d",
			m.SnapshotID, len(m.Chunks), m.VolumeSize, m.ChunkSize)
	}
	return nil
}

// Object keys.
const (
	snapshotsPrefix = "snapshots/"
	manifestName    = "manifest.json"
	chunksPrefix    = "chunks/"
)

func manifestKey(id string) string { return snapshotsPrefix + id + "/" + manifestName }

func chunkKey(h Hash) string {
	s := h.String()
	return chunksPrefix + s[:2] + "/" + s
}

// checkID accepts ids usable as one key segment: 1 to 128 of [A-Za-z0-9._-],
// not starting with a dot ("snap-0123456789abcdef0").
func checkID(id string) error {
	if id == "" || len(id) > 128 || id[0] == '.' {
		return fmt.Errorf("snapshot id %q: invalid", id)
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("snapshot id %q: invalid character %q", id, c)
		}
	}
	return nil
}
