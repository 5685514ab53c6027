// Package backend defines where the S3 API keeps object bytes: a small
// interface that the local-disk store (package disk) and the external-S3
// proxy (package remote) implement. Buckets here are plain namespaces:
// ownership, ACLs and policies are the S3 front end's business, kept in the
// database, so a backend never decides who may do what.
//
// Every write is all-or-nothing: PutObject, PutPart and CompleteUpload make
// nothing visible unless the body was read to its end without error. The
// front end relies on that to reject a body whose signature or checksum
// turns out wrong at its last byte.
package backend

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"
)

// Errors a backend returns (wrapped); the S3 front end maps them to codes.
var (
	ErrNoSuchBucket   = errors.New("no such bucket")
	ErrNoSuchKey      = errors.New("no such key")
	ErrNoSuchUpload   = errors.New("no such upload")
	ErrBucketNotEmpty = errors.New("bucket not empty")
	ErrInvalidName    = errors.New("name not accepted by the backend")
	ErrInvalidRange   = errors.New("range not satisfiable")
	// ErrShortBody: the body ended before the declared size, or ran past it.
	ErrShortBody = errors.New("body length does not match the declared size")
)

// Backend stores buckets, objects and multipart uploads.
type Backend interface {
	// CreateBucket makes a bucket; it succeeds if the bucket exists.
	CreateBucket(ctx context.Context, bucket string) error
	// DeleteBucket removes an empty bucket and its unfinished uploads.
	DeleteBucket(ctx context.Context, bucket string) error

	// PutObject stores body (exactly size bytes) under key, replacing any
	// object there, atomically.
	PutObject(ctx context.Context, bucket, key string, body io.Reader, size int64, meta Meta) (Object, error)
	// GetObject opens the object, or the part rng selects (nil: all of
	// it); ErrInvalidRange when rng starts past the end.
	GetObject(ctx context.Context, bucket, key string, rng *ByteRange) (*Reader, error)
	HeadObject(ctx context.Context, bucket, key string) (Object, error)
	// DeleteObject removes an object; deleting a missing key succeeds.
	DeleteObject(ctx context.Context, bucket, key string) error
	ListObjects(ctx context.Context, bucket string, q ListQuery) (ListPage, error)

	CreateUpload(ctx context.Context, bucket, key string, meta Meta) (uploadID string, err error)
	PutPart(ctx context.Context, bucket, key, uploadID string, number int, body io.Reader, size int64) (Part, error)
	// ListParts returns the upload and all its parts by number.
	ListParts(ctx context.Context, bucket, key, uploadID string) (Upload, []Part, error)
	// CompleteUpload joins the given parts (already checked by the caller)
	// into the object and forgets the upload.
	CompleteUpload(ctx context.Context, bucket, key, uploadID string, parts []Part) (Object, error)
	AbortUpload(ctx context.Context, bucket, key, uploadID string) error
	// ListUploads returns the unfinished uploads whose key has prefix, by key
	// then initiation time.
	ListUploads(ctx context.Context, bucket, prefix string) ([]Upload, error)
}

// Meta is what a client sets on an object besides its bytes.
type Meta struct {
	ContentType string
	// Headers holds the other stored HTTP headers by canonical name:
	// Cache-Control, Content-Disposition, Content-Encoding,
	// Content-Language, Expires.
	Headers map[string]string
	// User holds x-amz-meta-* values by lower-case name without the prefix.
	User map[string]string
	// ACL is the object's canned ACL; "" means private.
	ACL string
	// Tags are the object's tags (at most 10), by key.
	Tags map[string]string
	// Checksum is the whole-object checksum the client sent and the front
	// end verified, or nil. On PutObject the front end fills it in while
	// the body streams (it is known only once the last byte is checked):
	// a backend reads it after the body ends, or not at all.
	Checksum *Checksum
}

// Checksum is one x-amz-checksum-* value of an object.
type Checksum struct {
	Algorithm string `json:"a"` // CRC32, CRC32C, CRC64NVME, SHA1, SHA256
	Value     string `json:"v"` // base64, as in the header
}

// StoredHeaders lists the HTTP headers kept in Meta.Headers.
func StoredHeaders() []string {
	return []string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"}
}

// Object describes a stored object.
type Object struct {
	Key          string
	Size         int64
	ETag         string // without quotes: MD5 hex, or hex-N for multipart
	LastModified time.Time
	Meta
}

// ByteRange is one HTTP byte range: First through Last inclusive (Last < 0:
// to the end), or, when Suffix > 0, the final Suffix bytes.
type ByteRange struct {
	First, Last int64
	Suffix      int64
}

// Resolve returns the offset and length rng selects in an object of size
// bytes, or ErrInvalidRange.
func (rng ByteRange) Resolve(size int64) (offset, length int64, err error) {
	if rng.Suffix > 0 {
		n := min(rng.Suffix, size)
		if n == 0 {
			return 0, 0, ErrInvalidRange
		}
		return size - n, n, nil
	}
	if rng.First >= size {
		return 0, 0, ErrInvalidRange
	}
	last := size - 1
	if rng.Last >= 0 && rng.Last < last {
		last = rng.Last
	}
	return rng.First, last - rng.First + 1, nil
}

// Reader streams an object, or the range of it that was asked for.
type Reader struct {
	io.ReadCloser
	Object
	// Offset and Length are the bytes this reader yields.
	Offset, Length int64
	// Ranged tells whether a range was asked for (a 206 answer).
	Ranged bool
	// Direct, when set, yields the same bytes as reading the Reader, in a
	// form net/http can hand to sendfile(2) (an *io.LimitedReader over an
	// *os.File). Close still closes.
	Direct io.Reader
}

// Part is one uploaded part of a multipart upload.
type Part struct {
	Number       int
	Size         int64
	ETag         string // MD5 hex, without quotes
	LastModified time.Time
}

// Upload is an unfinished multipart upload.
type Upload struct {
	ID        string
	Key       string
	Initiated time.Time
	Meta      Meta
}

// ListQuery selects a page of keys in lexical (byte) order.
type ListQuery struct {
	Prefix    string
	Delimiter string
	// After is exclusive: the page starts after this key. When it is a
	// common prefix (it ends with Delimiter), keys under it are skipped too.
	After   string
	MaxKeys int
}

// ListPage is one page of a listing. Objects and CommonPrefixes together
// hold at most MaxKeys entries.
type ListPage struct {
	Objects        []Object
	CommonPrefixes []string
	Truncated      bool
	// Next is the last key or common prefix returned, to pass as After.
	Next string
}

// MultipartETag is S3's ETag of a multipart object: the MD5 of the
// concatenated binary MD5s of its parts, then "-" and the part count.
func MultipartETag(parts []Part) (string, error) {
	h := md5.New()
	for _, p := range parts {
		sum, err := hex.DecodeString(p.ETag)
		if err != nil || len(sum) != md5.Size {
			return "", fmt.Errorf("part %d has ETag %q, not an MD5", p.Number, p.ETag)
		}
		h.Write(sum)
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(parts)), nil
}

// MetaSetter is implemented by backends that can replace an object's
// metadata (tags, ACL) keeping its bytes, ETag and Last-Modified, as S3's
// PutObjectTagging and PutObjectAcl do. Without it the S3 front end
// rewrites the object through PutObject, which gives a multipart object a
// single-part ETag.
type MetaSetter interface {
	SetMeta(ctx context.Context, bucket, key string, change func(*Meta)) (Object, error)
}
