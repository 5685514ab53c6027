package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Objects is the object store as the snapshot store needs it. Kumo's S3
// layer (local disk or an external S3) backs it in production; MemObjects
// and DirObjects stand in until then and in tests.
type Objects interface {
	// Put stores exactly size bytes from r under key, atomically: readers
	// see the old object or the whole new one, never a part.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Get opens the object; a missing key gives an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	Exists(ctx context.Context, key string) (bool, error)
	// Delete removes the object; deleting a missing key succeeds.
	Delete(ctx context.Context, key string) error
	// List returns the keys starting with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
}

// ErrNotFound is wrapped by Objects.Get and Store.Manifest for missing keys.
var ErrNotFound = errors.New("not found")

// checkKey refuses keys that cannot be mapped safely onto a file tree:
// empty, absolute, with empty, "." or ".." segments, or naming a temp file.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") {
		return fmt.Errorf("object key %q: invalid", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, tempPrefix) {
			return fmt.Errorf("object key %q: invalid segment %q", key, seg)
		}
	}
	return nil
}

// tempPrefix names DirObjects' files being written; List never shows them.
const tempPrefix = ".tmp-"

// readExactly reads all of r into buf (allocated when too small) and fails
// unless r holds exactly size bytes.
func readExactly(r io.Reader, size int64, buf []byte) ([]byte, error) {
	if size < 0 {
		return nil, fmt.Errorf("negative size %d", size)
	}
	if int64(cap(buf)) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("read %d bytes: %w", size, err)
	}
	if n, _ := r.Read(make([]byte, 1)); n > 0 {
		return nil, fmt.Errorf("more than the %d bytes announced", size)
	}
	return buf, nil
}

// ctxReader fails reads once ctx is done, so a long copy can be cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
