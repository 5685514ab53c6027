package disk

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kumo-cloud/kumo/internal/s3/backend"
)

// An object (or part) file holds the bytes, then a JSON record of the
// metadata, then the record's length (4 bytes, big-endian) and a magic
// string. Data and metadata so land in one rename: there is never an
// object whose metadata is missing or belongs to an older version.
const (
	magic       = "KUMOOBJ1"
	tailSize    = 4 + len(magic)
	maxRecord   = 1 << 20
	tempPattern = "put-*"
	copyBuffer  = 1 << 20
)

// record is the metadata stored after the bytes.
type record struct {
	Key         string            `json:"k,omitempty"`
	Size        int64             `json:"s"`
	ETag        string            `json:"e"`
	Modified    int64             `json:"m"` // unix ms
	ContentType string            `json:"ct,omitempty"`
	Headers     map[string]string `json:"h,omitempty"`
	User        map[string]string `json:"u,omitempty"`
	ACL         string            `json:"acl,omitempty"`
	Tags        map[string]string `json:"tg,omitempty"`
	Checksum    *backend.Checksum `json:"ck,omitempty"`
}

func newRecord(key string, size int64, etag string, meta backend.Meta) record {
	return record{Key: key, Size: size, ETag: etag, Modified: time.Now().UnixMilli(),
		ContentType: meta.ContentType, Headers: meta.Headers, User: meta.User, ACL: meta.ACL, Tags: meta.Tags, Checksum: verifiedChecksum(meta.Checksum)}
}

func (r record) object() backend.Object {
	return backend.Object{Key: r.Key, Size: r.Size, ETag: r.ETag, LastModified: time.UnixMilli(r.Modified).UTC(),
		Meta: backend.Meta{ContentType: r.ContentType, Headers: r.Headers, User: r.User, ACL: r.ACL, Tags: r.Tags, Checksum: r.Checksum}}
}

// verifiedChecksum copies a checksum the front end filled in, if any.
func verifiedChecksum(c *backend.Checksum) *backend.Checksum {
	if c == nil || c.Algorithm == "" {
		return nil
	}
	cp := *c
	return &cp
}

// readRecord reads the record at the end of an open object file.
func readRecord(f *os.File) (record, error) {
	st, err := f.Stat()
	if err != nil {
		return record{}, err
	}
	total := st.Size()
	if total < int64(tailSize) {
		return record{}, fmt.Errorf("%s: too short for an object file", f.Name())
	}
	var tail [tailSize]byte
	if _, err := f.ReadAt(tail[:], total-int64(tailSize)); err != nil {
		return record{}, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	n := int64(binary.BigEndian.Uint32(tail[:4]))
	if string(tail[4:]) != magic || n > maxRecord || n > total-int64(tailSize) {
		return record{}, fmt.Errorf("%s: not an object file", f.Name())
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, total-int64(tailSize)-n); err != nil {
		return record{}, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	var r record
	if err := json.Unmarshal(buf, &r); err != nil {
		return record{}, fmt.Errorf("%s: bad record: %w", f.Name(), err)
	}
	if r.Size != total-int64(tailSize)-n {
		return record{}, fmt.Errorf("%s: record says %d bytes, file holds %d", f.Name(), r.Size, total-int64(tailSize)-n)
	}
	return r, nil
}

// readRecordAt opens path and reads its record.
func readRecordAt(path string) (record, error) {
	f, err := os.Open(path)
	if err != nil {
		return record{}, err
	}
	defer f.Close()
	return readRecord(f)
}

func appendRecord(w io.Writer, r record) error {
	buf, err := json.Marshal(r)
	if err != nil {
		return err
	}
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(buf)))
	buf = append(buf, magic...)
	_, err = w.Write(buf)
	return err
}

// copyExact copies exactly size bytes from body, hashing them with MD5;
// a body shorter or longer than size is backend.ErrShortBody.
func copyExact(dst io.Writer, body io.Reader, size int64) (etag string, err error) {
	h := md5.New()
	buf := make([]byte, min(max(size, 1), copyBuffer))
	n, err := io.CopyBuffer(io.MultiWriter(dst, h), io.LimitReader(body, size), buf)
	if err != nil {
		return "", err
	}
	if n != size {
		return "", fmt.Errorf("got %d of %d bytes: %w", n, size, backend.ErrShortBody)
	}
	var one [1]byte
	if m, err := body.Read(one[:]); m > 0 {
		return "", fmt.Errorf("more than %d bytes: %w", size, backend.ErrShortBody)
	} else if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeAtomic writes a file through a temporary file in tmpDir: fill
// writes the content, then the file is synced and renamed to dst, and the
// directory synced. On any error the temporary file is removed and dst is
// untouched.
func writeAtomic(tmpDir, dst string, fill func(f *os.File) error) (err error) {
	f, err := os.CreateTemp(tmpDir, tempPattern)
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = fill(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", f.Name(), err)
	}
	if err = os.Rename(f.Name(), dst); err != nil {
		return fmt.Errorf("rename into place: %w", err)
	}
	return syncDir(filepath.Dir(dst))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// fileRange reads a range of an open file and closes it.
type fileRange struct {
	*io.LimitedReader
	f *os.File
}

func (r fileRange) Close() error { return r.f.Close() }
