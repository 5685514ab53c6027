package disk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

const uploadRecord = "upload.json"

// uploadInfo is the record of an unfinished upload, in upload.json.
type uploadInfo struct {
	Key       string       `json:"key"`
	Initiated int64        `json:"initiated"` // unix ms
	Meta      backend.Meta `json:"meta"`
}

func (b *Backend) uploadsDir(bucket string) string { return filepath.Join(b.root, "uploads", bucket) }

func (b *Backend) uploadDir(bucket, id string) string { return filepath.Join(b.uploadsDir(bucket), id) }

func partName(n int) string { return fmt.Sprintf("p%05d", n) }

// CreateUpload makes the upload directory and its record.
func (b *Backend) CreateUpload(_ context.Context, bucket, key string, meta backend.Meta) (string, error) {
	if err := b.bucketExists(bucket); err != nil {
		return "", err
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	id := hex.EncodeToString(raw[:])
	dir := b.uploadDir(bucket, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create upload: %w", err)
	}
	buf, err := json.Marshal(uploadInfo{Key: key, Initiated: time.Now().UnixMilli(), Meta: meta})
	if err != nil {
		return "", err
	}
	err = writeAtomic(b.tmpDir(), filepath.Join(dir, uploadRecord), func(f *os.File) error {
		_, err := f.Write(buf)
		return err
	})
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("create upload: %w", err)
	}
	return id, nil
}

// upload reads an upload's record and checks it is for key.
func (b *Backend) upload(bucket, key, id string) (backend.Upload, error) {
	if err := b.bucketExists(bucket); err != nil {
		return backend.Upload{}, err
	}
	if err := checkUploadID(id); err != nil {
		return backend.Upload{}, err
	}
	buf, err := os.ReadFile(filepath.Join(b.uploadDir(bucket, id), uploadRecord))
	if errors.Is(err, fs.ErrNotExist) {
		return backend.Upload{}, fmt.Errorf("upload %s: %w", id, backend.ErrNoSuchUpload)
	}
	if err != nil {
		return backend.Upload{}, err
	}
	var u uploadInfo
	if err := json.Unmarshal(buf, &u); err != nil {
		return backend.Upload{}, fmt.Errorf("upload %s: bad record: %w", id, err)
	}
	if key != "" && u.Key != key {
		return backend.Upload{}, fmt.Errorf("upload %s is for another key: %w", id, backend.ErrNoSuchUpload)
	}
	return backend.Upload{ID: id, Key: u.Key, Initiated: time.UnixMilli(u.Initiated).UTC(), Meta: u.Meta}, nil
}

// PutPart writes one part through a temporary file.
func (b *Backend) PutPart(_ context.Context, bucket, key, id string, number int, body io.Reader, size int64) (backend.Part, error) {
	if _, err := b.upload(bucket, key, id); err != nil {
		return backend.Part{}, err
	}
	var rec record
	err := writeAtomic(b.tmpDir(), filepath.Join(b.uploadDir(bucket, id), partName(number)), func(f *os.File) error {
		etag, err := copyExact(f, body, size)
		if err != nil {
			return err
		}
		rec = newRecord("", size, etag, backend.Meta{})
		return appendRecord(f, rec)
	})
	if errors.Is(err, fs.ErrNotExist) {
		return backend.Part{}, fmt.Errorf("upload %s: %w", id, backend.ErrNoSuchUpload)
	}
	if err != nil {
		return backend.Part{}, fmt.Errorf("put part %d of upload %s: %w", number, id, err)
	}
	return rec.part(number), nil
}

func (r record) part(n int) backend.Part {
	return backend.Part{Number: n, Size: r.Size, ETag: r.ETag, LastModified: time.UnixMilli(r.Modified).UTC()}
}

// ListParts reads the upload's part files.
func (b *Backend) ListParts(_ context.Context, bucket, key, id string) (backend.Upload, []backend.Part, error) {
	u, err := b.upload(bucket, key, id)
	if err != nil {
		return backend.Upload{}, nil, err
	}
	dir := b.uploadDir(bucket, id)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return backend.Upload{}, nil, fmt.Errorf("list parts of %s: %w", id, err)
	}
	var parts []backend.Part
	for _, e := range entries {
		n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "p"))
		if !strings.HasPrefix(e.Name(), "p") || err != nil {
			continue
		}
		rec, err := readRecordAt(filepath.Join(dir, e.Name()))
		if err != nil {
			return backend.Upload{}, nil, fmt.Errorf("list parts of %s: %w", id, err)
		}
		parts = append(parts, rec.part(n))
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number })
	return u, parts, nil
}

// CompleteUpload concatenates the parts into the object file, then removes
// the upload.
func (b *Backend) CompleteUpload(_ context.Context, bucket, key, id string, parts []backend.Part) (backend.Object, error) {
	u, err := b.upload(bucket, key, id)
	if err != nil {
		return backend.Object{}, err
	}
	etag, err := backend.MultipartETag(parts)
	if err != nil {
		return backend.Object{}, err
	}
	var rec record
	err = writeAtomic(b.tmpDir(), b.objectPath(bucket, key), func(f *os.File) error {
		size, err := b.concatParts(f, bucket, id, parts)
		if err != nil {
			return err
		}
		rec = newRecord(key, size, etag, u.Meta)
		return appendRecord(f, rec)
	})
	if err != nil {
		return backend.Object{}, b.writeError(bucket, key, err)
	}
	if err := os.RemoveAll(b.uploadDir(bucket, id)); err != nil {
		return backend.Object{}, fmt.Errorf("remove finished upload %s: %w", id, err)
	}
	return rec.object(), nil
}

// concatParts appends each part's bytes to dst, checking each is the
// part the caller saw.
func (b *Backend) concatParts(dst *os.File, bucket, id string, parts []backend.Part) (int64, error) {
	var total int64
	for _, p := range parts {
		f, err := os.Open(filepath.Join(b.uploadDir(bucket, id), partName(p.Number)))
		if err != nil {
			return 0, fmt.Errorf("part %d: %w", p.Number, err)
		}
		rec, err := readRecord(f)
		if err == nil && rec.ETag != p.ETag {
			err = fmt.Errorf("part %d changed while completing", p.Number)
		}
		if err == nil {
			_, err = io.Copy(dst, io.NewSectionReader(f, 0, rec.Size))
		}
		f.Close()
		if err != nil {
			return 0, fmt.Errorf("part %d: %w", p.Number, err)
		}
		total += rec.Size
	}
	return total, nil
}

// AbortUpload removes the upload and its parts.
func (b *Backend) AbortUpload(_ context.Context, bucket, key, id string) error {
	if _, err := b.upload(bucket, key, id); err != nil {
		return err
	}
	if err := os.RemoveAll(b.uploadDir(bucket, id)); err != nil {
		return fmt.Errorf("abort upload %s: %w", id, err)
	}
	return nil
}

// ListUploads reads every upload record of the bucket.
func (b *Backend) ListUploads(_ context.Context, bucket, prefix string) ([]backend.Upload, error) {
	if err := b.bucketExists(bucket); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(b.uploadsDir(bucket))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list uploads of %s: %w", bucket, err)
	}
	var out []backend.Upload
	for _, e := range entries {
		u, err := b.upload(bucket, "", e.Name())
		if errors.Is(err, backend.ErrNoSuchUpload) {
			continue // being created or aborted
		}
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(u.Key, prefix) {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return out[i].Initiated.Before(out[j].Initiated)
	})
	return out, nil
}
