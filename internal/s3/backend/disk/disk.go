// Package disk keeps S3 buckets and objects in a directory on the local
// file system:
//
//	<root>/tmp/                      files being written (emptied at Open)
//	<root>/buckets/<bucket>/<name>   one file per object: bytes + metadata
//	<root>/uploads/<bucket>/<id>/    unfinished multipart uploads
//
// Every object, part and upload record is written to a temporary file,
// synced and renamed into place, so a crash or a dropped connection
// mid-upload never leaves a partial object visible. Keys map to file names
// by an escaping that cannot produce a path separator, "." or "..", so no
// key reaches outside its bucket directory (see names.go).
//
// One process owns a root at a time (as it owns the SQLite database next
// to it). Listing reads the bucket directory, so it costs time in the
// number of objects in the bucket: fine for the embedded store, while large
// deployments use an external S3 as the backend.
package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// Backend is a local-disk object store. It is safe for concurrent use.
type Backend struct {
	root string
}

var _ backend.Backend = (*Backend)(nil)

// Open prepares root (creating it if needed) and removes temporary files
// left by a previous process that stopped mid-write.
func Open(root string) (*Backend, error) {
	b := &Backend{root: root}
	if err := os.RemoveAll(b.tmpDir()); err != nil {
		return nil, fmt.Errorf("clear %s: %w", b.tmpDir(), err)
	}
	for _, dir := range []string{b.tmpDir(), filepath.Join(root, "buckets"), filepath.Join(root, "uploads")} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("object store: %w", err)
		}
	}
	return b, nil
}

func (b *Backend) tmpDir() string { return filepath.Join(b.root, "tmp") }

func (b *Backend) bucketDir(bucket string) string { return filepath.Join(b.root, "buckets", bucket) }

func (b *Backend) objectPath(bucket, key string) string {
	return filepath.Join(b.bucketDir(bucket), fileName(key))
}

// bucketExists checks the name and that the bucket directory is there.
func (b *Backend) bucketExists(bucket string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	if _, err := os.Stat(b.bucketDir(bucket)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("bucket %s: %w", bucket, backend.ErrNoSuchBucket)
		}
		return err
	}
	return nil
}

// CreateBucket makes the bucket directory.
func (b *Backend) CreateBucket(_ context.Context, bucket string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	if err := os.Mkdir(b.bucketDir(bucket), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return syncDir(filepath.Dir(b.bucketDir(bucket)))
}

// DeleteBucket removes an empty bucket directory, then its uploads.
func (b *Backend) DeleteBucket(_ context.Context, bucket string) error {
	if err := b.bucketExists(bucket); err != nil {
		return err
	}
	if err := os.Remove(b.bucketDir(bucket)); err != nil {
		if isNotEmpty(err) {
			return fmt.Errorf("bucket %s: %w", bucket, backend.ErrBucketNotEmpty)
		}
		return fmt.Errorf("delete bucket %s: %w", bucket, err)
	}
	if err := os.RemoveAll(b.uploadsDir(bucket)); err != nil {
		return fmt.Errorf("delete uploads of bucket %s: %w", bucket, err)
	}
	return nil
}

func isNotEmpty(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && (errors.Is(pe.Err, errNotEmpty) || errors.Is(pe.Err, errExist))
}

// PutObject writes the object through a temporary file.
func (b *Backend) PutObject(_ context.Context, bucket, key string, body io.Reader, size int64, meta backend.Meta) (backend.Object, error) {
	if err := b.bucketExists(bucket); err != nil {
		return backend.Object{}, err
	}
	var rec record
	err := writeAtomic(b.tmpDir(), b.objectPath(bucket, key), func(f *os.File) error {
		etag, err := copyExact(f, body, size)
		if err != nil {
			return err
		}
		rec = newRecord(key, size, etag, meta)
		return appendRecord(f, rec)
	})
	if err != nil {
		return backend.Object{}, b.writeError(bucket, key, err)
	}
	return rec.object(), nil
}

// writeError says NoSuchBucket when the bucket vanished during a write.
func (b *Backend) writeError(bucket, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		if berr := b.bucketExists(bucket); berr != nil {
			return berr
		}
	}
	return fmt.Errorf("put %s/%s: %w", bucket, key, err)
}

// open opens an object file and reads its record.
func (b *Backend) open(bucket, key string) (*os.File, record, error) {
	if err := b.bucketExists(bucket); err != nil {
		return nil, record{}, err
	}
	f, err := os.Open(b.objectPath(bucket, key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, record{}, fmt.Errorf("%s/%s: %w", bucket, key, backend.ErrNoSuchKey)
	}
	if err != nil {
		return nil, record{}, err
	}
	rec, err := readRecord(f)
	if err == nil && rec.Key != key {
		err = fmt.Errorf("%s holds key %q, not %q", f.Name(), rec.Key, key)
	}
	if err != nil {
		f.Close()
		return nil, record{}, err
	}
	return f, rec, nil
}

// GetObject opens the object (or a range of it) for reading.
func (b *Backend) GetObject(_ context.Context, bucket, key string, rng *backend.ByteRange) (*backend.Reader, error) {
	f, rec, err := b.open(bucket, key)
	if err != nil {
		return nil, err
	}
	off, n := int64(0), rec.Size
	if rng != nil {
		if off, n, err = rng.Resolve(rec.Size); err != nil {
			f.Close()
			return nil, err
		}
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	body := &io.LimitedReader{R: f, N: n}
	return &backend.Reader{ReadCloser: fileRange{body, f}, Object: rec.object(),
		Offset: off, Length: n, Ranged: rng != nil, Direct: body}, nil
}

// HeadObject reads an object's metadata.
func (b *Backend) HeadObject(_ context.Context, bucket, key string) (backend.Object, error) {
	f, rec, err := b.open(bucket, key)
	if err != nil {
		return backend.Object{}, err
	}
	f.Close()
	return rec.object(), nil
}

// DeleteObject removes the object file.
func (b *Backend) DeleteObject(_ context.Context, bucket, key string) error {
	if err := b.bucketExists(bucket); err != nil {
		return err
	}
	if err := os.Remove(b.objectPath(bucket, key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s/%s: %w", bucket, key, err)
	}
	return nil
}

// SetMeta rewrites an object's file with changed metadata and the same
// bytes, ETag and modification time (backend.MetaSetter).
func (b *Backend) SetMeta(_ context.Context, bucket, key string, change func(*backend.Meta)) (backend.Object, error) {
	src, rec, err := b.open(bucket, key)
	if err != nil {
		return backend.Object{}, err
	}
	defer src.Close()
	meta := rec.object().Meta
	change(&meta)
	next := newRecord(key, rec.Size, rec.ETag, meta)
	next.Modified = rec.Modified
	err = writeAtomic(b.tmpDir(), b.objectPath(bucket, key), func(f *os.File) error {
		if _, err := copyExact(f, io.NewSectionReader(src, 0, rec.Size), rec.Size); err != nil {
			return err
		}
		return appendRecord(f, next)
	})
	if err != nil {
		return backend.Object{}, b.writeError(bucket, key, err)
	}
	return next.object(), nil
}
