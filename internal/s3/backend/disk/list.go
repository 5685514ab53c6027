package disk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// ListObjects reads the bucket directory, sorts the keys and pages them.
func (b *Backend) ListObjects(_ context.Context, bucket string, q backend.ListQuery) (backend.ListPage, error) {
	if err := b.bucketExists(bucket); err != nil {
		return backend.ListPage{}, err
	}
	keys, err := b.keys(bucket, q.Prefix)
	if err != nil {
		return backend.ListPage{}, err
	}
	objects, prefixes, truncated, next := backend.Page(keys, q)
	page := backend.ListPage{CommonPrefixes: prefixes, Truncated: truncated, Next: next}
	for _, key := range objects {
		rec, err := readRecordAt(b.objectPath(bucket, key))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted since the directory was read
		}
		if err != nil {
			return backend.ListPage{}, fmt.Errorf("list %s: %w", bucket, err)
		}
		page.Objects = append(page.Objects, rec.object())
	}
	return page, nil
}

// keys returns the sorted keys in a bucket that start with prefix.
func (b *Backend) keys(bucket, prefix string) ([]string, error) {
	dir := b.bucketDir(bucket)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", bucket, err)
	}
	var keys []string
	for _, e := range entries {
		key, ok := decodeName(e.Name())
		if !ok && strings.HasPrefix(e.Name(), prefixHashed) {
			rec, err := readRecordAt(filepath.Join(dir, e.Name()))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("list %s: %w", bucket, err)
			}
			key, ok = rec.Key, true
		}
		if ok && strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	return keys, nil
}
